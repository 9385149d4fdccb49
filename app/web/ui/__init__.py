"""Server-rendered HTML pages for auditors (no script, no external resources)."""

from fastapi import APIRouter

from app.web.ui import routes, sign_in

router = APIRouter()
router.include_router(sign_in.router)
router.include_router(routes.router)

__all__ = ["router"]
