"""The desk's web door: pages for district clerks and the city, and the JSON API behind them (FastAPI).

Thin over :class:`xltools.desk.Desk`: every check, mark and rollup is the core's. What the door adds is the web's
own care: who may do what (a district's upload code, the city's token; kept in HttpOnly, SameSite=Strict cookies
once given), CSRF tokens on every form, the Host header checked, uploads bounded in size and never used as paths,
every text escaped (Jinja2 autoescape), nothing fetched from the internet.
"""

from __future__ import annotations

import json
import logging
import secrets
from pathlib import Path
from urllib.parse import quote

from fastapi import FastAPI, File, Form, Header, Request, UploadFile
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.concurrency import run_in_threadpool
from starlette.middleware.trustedhost import TrustedHostMiddleware

from ..errors import OutputError, UnreadableInput, XltoolsError
from ..limits import LimitExceeded, current
from ..problems import SEVERITY_ZH, problem_title
from . import Desk, DeskError

log = logging.getLogger(__name__)
HERE = Path(__file__).parent
CODE_COOKIE, CITY_COOKIE, CSRF_COOKIE = "xlt_code", "xlt_city", "xlt_csrf"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _status(exc: XltoolsError) -> int:
    """The CLI's exit 2 as HTTP: the request's fault (4xx), a limit (413), the server's output (500)."""
    if isinstance(exc, DeskError):
        return exc.status
    if isinstance(exc, LimitExceeded):
        return 413
    if isinstance(exc, OutputError):
        return 500
    return 422 if isinstance(exc, UnreadableInput) else 400


def _download(name: str, data: bytes, media: str = XLSX) -> Response:
    return Response(data, media_type=media,
                    headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}"})


def create_app(desk: Desk, allowed_hosts: list[str] | None = None, local: bool = False) -> FastAPI:
    app = FastAPI(title="台账收发台", description="各区县报送工作台账、即时检查；市级查看报送情况、生成汇总和反馈。",
                  docs_url="/api/docs", openapi_url="/api/openapi.json", redoc_url=None)
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=allowed_hosts or ["127.0.0.1", "localhost"])
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.mount("/wps", StaticFiles(directory=HERE / "wps", html=True), name="wps")  # the WPS 加载项 (online mode)
    if local:
        # The WPS add-in installed offline runs from its own folder, not from this server: it may call the two
        # stateless APIs below from a page on this computer (nothing else is allowed across origins).
        from starlette.middleware.cors import CORSMiddleware

        app.add_middleware(CORSMiddleware, allow_origin_regex=r"^(null|file://.*|https?://(127\.0\.0\.1|localhost)(:\d+)?)$",
                           allow_methods=["POST"], allow_headers=["Content-Type", "X-Xltools"])
    pages = Jinja2Templates(directory=HERE / "templates")  # autoescape on for .html
    pages.env.globals.update(severity_zh=SEVERITY_ZH, title_of=problem_title)

    @app.exception_handler(XltoolsError)
    async def refused(request: Request, exc: XltoolsError):
        log.warning("desk: %s", exc)
        if request.url.path.startswith("/api/"):
            return JSONResponse({"error": exc.message_zh}, status_code=_status(exc))
        return _page(request, "message.html", {"message": exc.message_zh}, status=_status(exc))

    def _page(request: Request, name: str, context: dict, status: int = 200) -> HTMLResponse:
        token = request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(24)
        response = pages.TemplateResponse(request, name, {"csrf": token, "city": desk.city_name(), **context},
                                          status_code=status)
        response.set_cookie(CSRF_COOKIE, token, httponly=True, samesite="strict")
        return response

    def _csrf(request: Request, token: str) -> None:
        cookie = request.cookies.get(CSRF_COOKIE)
        if not cookie or not token or not secrets.compare_digest(cookie, token):
            raise DeskError("CSRF token missing or wrong", "页面已过期或来源不明，请刷新页面后重试", 403)

    def _district(code: str | None) -> str:
        region = desk.region_of_code(code or "")
        if region is None:
            raise DeskError("wrong upload code", "上传码不对，请核对市里发来的上传码（见分发清单或填报说明）", 403)
        return region

    def _city(token: str | None) -> None:
        if not desk.is_city(token or ""):
            raise DeskError("wrong city token", "市级口令不对", 403)

    async def _read(file: UploadFile) -> bytes:
        most = int(current().file_mb * 1024 * 1024)
        data = await file.read(most + 1)
        if len(data) > most:
            raise DeskError(f"upload over {most} bytes",
                            f"文件过大：超过 {current().file_mb:g} MB，未接收。请检查是否交错了文件", 413)
        return data

    # -------------------------------------------------------------------------------- district pages

    @app.get("/", response_class=HTMLResponse)
    async def district_page(request: Request):
        region = desk.region_of_code(request.cookies.get(CODE_COOKIE, ""))
        history = desk.versions(region) if region else []
        return _page(request, "district.html", {"region": region, "history": history, "checked": None})

    @app.post("/upload", response_class=HTMLResponse)
    async def upload_page(request: Request, file: UploadFile = File(...), code: str = Form(""),
                          csrf: str = Form("")):
        _csrf(request, csrf)
        region = _district(code or request.cookies.get(CODE_COOKIE))
        checked = await run_in_threadpool(desk.hand_in, region, file.filename or "", await _read(file))
        response = _page(request, "district.html", {"region": region, "history": desk.versions(region),
                                                    "checked": checked})
        response.set_cookie(CODE_COOKIE, desk.code(region), httponly=True, samesite="strict")
        return response

    @app.get("/marked/{version}")
    async def marked_page(request: Request, version: int):
        region = _district(request.cookies.get(CODE_COOKIE))
        return _download(*await run_in_threadpool(desk.marked_copy, region, version))

    # ------------------------------------------------------------------------------------ city pages

    @app.get("/city", response_class=HTMLResponse)
    async def city_page(request: Request):
        if not desk.is_city(request.cookies.get(CITY_COOKIE, "")):
            return _page(request, "login.html", {})
        return _page(request, "city.html", {"rows": await run_in_threadpool(desk.status), "regions": desk.regions,
                                            "overview": await run_in_threadpool(desk.overview)})

    @app.post("/city/login")
    async def city_login(request: Request, token: str = Form(""), csrf: str = Form("")):
        _csrf(request, csrf)
        _city(token)
        response = RedirectResponse("/city", status_code=303)
        response.set_cookie(CITY_COOKIE, token.strip(), httponly=True, samesite="strict")
        return response

    @app.post("/city/rollup")
    async def city_rollup(request: Request, csrf: str = Form(""), feedback: str = Form("")):
        _csrf(request, csrf)
        _city(request.cookies.get(CITY_COOKIE))
        name, data = await run_in_threadpool(desk.rollup, bool(feedback))
        return _download(name, data, "application/zip" if feedback else XLSX)

    @app.post("/city/jobs", status_code=202)
    async def city_job(request: Request, csrf: str = Form(""), feedback: str = Form("")):
        """The page's rollup with a progress bar (desk.js): started in the background, its state answered."""
        _csrf(request, csrf)
        _city(request.cookies.get(CITY_COOKIE))
        return (await run_in_threadpool(desk.start, bool(feedback))).to_dict()

    @app.get("/city/jobs/{job_id}")
    async def city_job_state(request: Request, job_id: str):
        _city(request.cookies.get(CITY_COOKIE))
        return _job(job_id).to_dict()

    @app.get("/city/jobs/{job_id}/result")
    async def city_job_result(request: Request, job_id: str):
        _city(request.cookies.get(CITY_COOKIE))
        return _result(_job(job_id))

    def _job(job_id: str):
        job = desk.job(job_id)
        if job is None:
            raise DeskError(f"no job {job_id!r}", "没有这项任务（可能已被新的任务代替），请重新生成", 404)
        return job

    def _result(job) -> Response:
        if job.state != "done":
            raise DeskError(f"job {job.id} is {job.state}", f"还没有生成好：{job.stage()}", 409)
        return _download(job.name, job.data, "application/zip" if job.kind == "feedback" else XLSX)

    @app.get("/city/district/{region}", response_class=HTMLResponse)
    async def city_district(request: Request, region: str):
        """A district's versions, each with its marked copy."""
        _city(request.cookies.get(CITY_COOKIE))
        if region not in desk.regions:
            raise DeskError(f"unknown region {region!r}", f"没有“{region}”这个地区", 404)
        return _page(request, "versions.html", {"region": region,
                                                "history": await run_in_threadpool(desk.versions, region)})

    @app.get("/city/marked/{region}/{version}")
    async def city_marked(request: Request, region: str, version: int):
        _city(request.cookies.get(CITY_COOKIE))
        if region not in desk.regions:
            raise DeskError(f"unknown region {region!r}", f"没有“{region}”这个地区", 404)
        return _download(*await run_in_threadpool(desk.marked_copy, region, version))

    # ------------------------------------------------------------------------------------------- API

    @app.post("/api/uploads", status_code=201)
    async def api_upload(file: UploadFile = File(...), x_upload_code: str = Header("")):
        """A district hands in a workbook: checked, archived as its next version; the check is the answer."""
        region = _district(x_upload_code)
        return (await run_in_threadpool(desk.hand_in, region, file.filename or "", await _read(file))).to_dict()

    @app.get("/api/districts/{region}/versions")
    async def api_versions(region: str, x_upload_code: str = Header(""), x_city_token: str = Header("")):
        _allowed(region, x_upload_code, x_city_token)
        return [{"version": v.version, "name": v.name, "received": v.received.isoformat(timespec="seconds"),
                 "sha256": v.sha256} for v in desk.versions(region)]

    @app.get("/api/districts/{region}/versions/{version}")
    async def api_checked(region: str, version: int, x_upload_code: str = Header(""), x_city_token: str = Header("")):
        _allowed(region, x_upload_code, x_city_token)
        checked = await run_in_threadpool(desk.checked, region, version)
        if checked is None:
            raise DeskError(f"{region} has no version {version}", f"{region}没有第{version}版", 404)
        return checked.to_dict()

    @app.get("/api/districts/{region}/versions/{version}/marked")
    async def api_marked(region: str, version: int, x_upload_code: str = Header(""), x_city_token: str = Header("")):
        _allowed(region, x_upload_code, x_city_token)
        return _download(*await run_in_threadpool(desk.marked_copy, region, version))

    @app.get("/api/status")
    async def api_status(x_city_token: str = Header("")):
        _city(x_city_token)
        return await run_in_threadpool(desk.status)

    @app.get("/api/overview")
    async def api_overview(x_city_token: str = Header("")):
        """覆盖矩阵 and 目标对比 of every district's latest version."""
        _city(x_city_token)
        return await run_in_threadpool(desk.overview)

    @app.post("/api/rollup")
    async def api_rollup(x_city_token: str = Header("")):
        _city(x_city_token)
        return _download(*await run_in_threadpool(desk.rollup))

    @app.post("/api/feedback")
    async def api_feedback(x_city_token: str = Header("")):
        _city(x_city_token)
        name, data = await run_in_threadpool(desk.rollup, True)
        return _download(name, data, "application/zip")

    @app.post("/api/workbook/{action}")
    async def api_workbook(action: str, request: Request, x_upload_code: str = Header(""),
                           x_city_token: str = Header("")):
        """A ribbon button (check_units, check_targets, clear_marks, apply_fixes, lookup_unit) on the workbook
        snapshot in the body — ``{"name", "sheets": [{"name", "values", "merged", "cells"}], "selection"}`` —
        answered with the patch to apply (cells to put back and to mark, values, sheets, message). Served to
        anyone on this computer when the desk listens on 127.0.0.1 (the WPS add-in); elsewhere a district's
        upload code or the city token is needed."""
        if not local and not desk.is_city(x_city_token):
            _district(x_upload_code)
        return await run_in_threadpool(desk.workbook, action, await _json(request))

    @app.post("/api/jobs", status_code=202)
    async def api_job(feedback: bool = False, x_city_token: str = Header("")):
        """Start the rollup (``feedback=true``: the feedback zip) in the background; poll ``/api/jobs/{id}``."""
        _city(x_city_token)
        return (await run_in_threadpool(desk.start, feedback)).to_dict()

    @app.get("/api/jobs/{job_id}")
    async def api_job_state(job_id: str, x_city_token: str = Header("")):
        """A job's state (running/done/failed), files done of total, and what it is doing, in Chinese."""
        _city(x_city_token)
        return _job(job_id).to_dict()

    @app.get("/api/jobs/{job_id}/result")
    async def api_job_result(job_id: str, x_city_token: str = Header("")):
        _city(x_city_token)
        return _result(_job(job_id))

    @app.post("/api/ribbon/{tag}")
    async def api_ribbon(tag: str, request: Request, x_xltools: str = Header("")):
        """The ribbon's file buttons for the WPS add-in, or the Excel add-in's desk route, on this computer
        (``desk.ribbon``): ``{"book": the saved workbook, "path": the chosen file or folder}`` → ``{"messages",
        "open"}``; ``copy_path`` → where to save a copy of an unsaved workbook. Only on a desk listening on
        127.0.0.1, and only from an add-in (its header: X-Xltools wps or excel)."""
        from .ribbon import copy_path, run_button

        if not local:
            raise DeskError("ribbon API on a shared desk", "这个功能只在本机运行的收发台上可用（xltools serve 默认即是）", 403)
        if x_xltools not in ("wps", "excel"):
            raise DeskError("ribbon API without the add-in's header", "请从 WPS 或 Excel 的“台账工具”选项卡使用这个功能",
                            403)
        body = await _json(request)
        if tag == "copy_path":
            return {"path": copy_path(str(body.get("name") or ""))}
        return await run_in_threadpool(run_button, tag, str(body.get("book") or ""), str(body.get("path") or ""))

    async def _json(request: Request) -> dict:
        most = int(current().file_mb * 1024 * 1024)
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > most:
                raise DeskError(f"request over {most} bytes", f"发来的内容过大：超过 {current().file_mb:g} MB", 413)
        try:
            data = json.loads(body)
        except ValueError as exc:
            raise DeskError(f"request is not JSON: {exc}", "发来的内容不是 JSON", 422) from exc
        if not isinstance(data, dict):
            raise DeskError("request is not a JSON object", "发来的内容格式不对", 422)
        return data

    def _allowed(region: str, code: str, token: str) -> None:
        if desk.is_city(token):
            if region not in desk.regions:
                raise DeskError(f"unknown region {region!r}", f"没有“{region}”这个地区", 404)
            return
        if _district(code) != region:
            raise DeskError("code of another region", "上传码不是该地区的", 403)

    return app
