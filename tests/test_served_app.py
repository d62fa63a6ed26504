"""The application as a server runs it (``app.py``, ``bench/wsgi.py``)."""

import gc

from sofi import create_served_app


def test_a_served_application_sets_its_startup_objects_aside_from_the_garbage_collector(app):
    gc.unfreeze()
    try:
        served = create_served_app({"SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"], "TESTING": True})
        assert gc.get_freeze_count() > 0  # a full collection no longer walks them
        assert served.test_client().get("/healthz").status_code == 200
    finally:
        gc.unfreeze()
