"""Local web app for the embryologist: drop a video, watch the analysis, keep the numbers.

    >>> from oocyteseg.web.app import create_app   # FastAPI app; `oocyteseg serve` runs it with uvicorn
"""
