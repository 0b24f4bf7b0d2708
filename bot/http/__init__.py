"""The HTTP edge: the FastAPI app, its routes, models and errors, batching, the chat page."""
