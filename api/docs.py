"""Swagger UI's files, served from the installed swagger-ui-bundle package: no CDN, works offline."""

from __future__ import annotations

from flask import Blueprint
from swagger_ui_bundle import swagger_ui_path

docs_assets = Blueprint("docs_assets", __name__, static_folder=swagger_ui_path,
                        static_url_path="/api/docs/assets")
