"""Linli (邻里): community governance and emergency operation on one grid."""

from .celery import app as celery_app

__all__ = ["celery_app"]
