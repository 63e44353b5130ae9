"""One APIRouter per resource, mounted under /api/v1 by :func:`suanli.api.app.create_app`."""
