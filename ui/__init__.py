"""Streamlit glue shared by app.py and pages/: sidebar widgets and session state."""
