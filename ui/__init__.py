"""The Streamlit UI: a thin layer over rag_app.service. Only this package imports streamlit."""
