"""The dashboard's pages: one snake_case file per page, each with one function.

``dashboard/app.py`` lists them explicitly in ``st.navigation`` (``st.Page`` with
the file's path); Streamlit runs a page file as a script, so each file ends by
calling its function. Pages are thin: they read widgets, call ``dashboard``
helpers (never SQL, ``groupby`` or model fitting) and render.
"""
