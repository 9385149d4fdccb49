"""Server-rendered HTML pages for auditors (no script, no external resources)."""

from fastapi import APIRouter

from app.web.ui import findings_page, routes, sign_in

router = APIRouter()
router.include_router(sign_in.router)
router.include_router(routes.router)
router.include_router(findings_page.router)  # the auditor's findings (issue 15)

__all__ = ["router"]
