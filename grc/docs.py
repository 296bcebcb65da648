"""Serves Swagger UI's files from the installed package, so the API docs work offline."""

from __future__ import annotations

from flask import Blueprint, Response, send_from_directory
from swagger_ui_bundle import swagger_ui_path

blp = Blueprint("api_docs_assets", __name__)


@blp.route("/api/docs/assets/<path:filename>")
def swagger_asset(filename: str) -> Response:
    return send_from_directory(swagger_ui_path, filename, max_age=86400)
