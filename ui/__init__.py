"""Streamlit glue shared by app.py and views/: sidebar widgets and session state."""
