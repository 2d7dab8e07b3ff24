"""The application layer: the Streamlit app's frame and helpers, and the `personalize` CLI.

Both front ends sit on the engine (and on `seed` for a first-run store);
nothing below them imports from here.
"""
