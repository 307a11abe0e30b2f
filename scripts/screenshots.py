#!/usr/bin/env python
"""Screenshots for the user guide (docs/user-guide.md), taken from the running demo street.

    .venv/bin/python scripts/screenshots.py [--out docs/images] [--port 8501]

What it does, printing each step:

1. builds the demo street in its own data directory (``JIEDAO_DATA_DIR``, by default
   /tmp/jiedao-shots) with ``jiedao demo --no-serve`` if it is not there yet (an existing
   one only gets new migrations) — the database of ``make demo`` is never touched;
2. starts the production server (``jiedao serve``) on the given port;
3. drives a headless Chromium through one request's whole loop — a resident reports on
   the portal, the dispatcher classifies and dispatches, the unit responds and asks for an
   extension, the dispatcher blows the whistle, the leader approves and supervises, the
   summoned unit reports, the unit resolves, the grid worker verifies, the resident
   rates — and saves a screenshot of every page a role uses on the way, plus the leader's
   cockpit and large screen, the evaluator's rankings, the operator's
   intake, the grid worker's quick report, notifications, the Django admin, the public
   responsibility list, the API docs and the English switch;
4. stops the server.

Screenshots are viewport-sized (1280×900 for desk pages, 412×900 for phone pages) or
clipped to one part of a page, and PNGs above ~150 KB are reduced to a 256-colour
palette, so each stays well below 250 KB. Each run adds one new case to the demo
database; ``--rebuild`` starts again from a fresh demo street.
"""

import argparse
import datetime as dt
import io
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PASSWORD = "demo12345"  # the demo accounts' password (demo only)
DESK = {"width": 1280, "height": 900}
PHONE = {"width": 412, "height": 900}
WIDE = {"width": 1600, "height": 900}
# Inside 东湖社区 第一网格 of the demo street (the grid worker "grid" looks after it).
POSITION = {"latitude": 39.9140, "longitude": 116.4310}
RESIDENT_PHONE = "13712345678"
# 城乡建设 / 城市建设和市政管理 / 城管执法: routed to 综合执法队 (the demo "handler"),
# and verified on site by the grid worker after the unit reports the result.
CATEGORY = ("01", "0102", "010202")
SUMMONED = ("CG", "JWH01")  # 区城管委派驻组, 东湖社区居委会
SMALL_ENOUGH = 150 * 1024
TARGET = 250 * 1024


def say(message):
    print(message, flush=True)


# --- the demo database and the server ----------------------------------------------


def server_env(data_dir):
    env = dict(os.environ)
    env["JIEDAO_DATA_DIR"] = str(data_dir)
    env.setdefault("JIEDAO_STAFF_2FA", "0")  # screenshots of the demo accounts, signed in by password
    env.pop("DATABASE_URL", None)  # always the SQLite file in the data directory
    env.pop("JIEDAO_DEBUG", None)
    return env


def ensure_demo(data_dir, cases, rebuild):
    data_dir.mkdir(parents=True, exist_ok=True)
    database = data_dir / "jiedao.sqlite3"
    command = [sys.executable, "-m", "jiedao.cli", "demo", "--no-serve", "--cases", str(cases)]
    if rebuild:
        command.append("--reset")
    if database.exists() and not rebuild:
        say(f"· 沿用演示数据库 {database}（加 --rebuild 可重建）")
    else:
        say(f"· 正在建立演示街道（{cases} 件工单）到 {data_dir} …")
    # Run it in either case: on an existing database it only applies new migrations.
    done = subprocess.run(
        command,
        env=server_env(data_dir),
        cwd=REPO,
        stdout=None if not database.exists() or rebuild else subprocess.DEVNULL,
    )
    if done.returncode != 0:
        sys.exit(
            f"演示街道没有建成（jiedao demo 退出码 {done.returncode}）。数据库若由旧版本建立，可加 --rebuild 重建。"
        )


def port_in_use(port):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def start_server(data_dir, port):
    if port_in_use(port):
        sys.exit(f"端口 {port} 已被占用：请先停止那里的服务，或用 --port 换一个端口。")
    say(f"· 启动网站 http://127.0.0.1:{port}/ …")
    server = subprocess.Popen(
        [sys.executable, "-m", "jiedao.cli", "serve", "--port", str(port), "--workers", "2"],
        env=server_env(data_dir),
        cwd=REPO,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit(f"网站没有启动（退出码 {server.returncode}）。")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/login/", timeout=2) as response:
                if response.status == 200:
                    return server
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.5)
    stop_server(server)
    sys.exit("网站在 120 秒内没有响应。")


def stop_server(server):
    if server.poll() is not None:
        return
    say("· 停止网站 …")
    server.send_signal(signal.SIGTERM)
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


# --- pictures -------------------------------------------------------------------------


class Shots:
    def __init__(self, out):
        self.out = out
        self.saved = []
        out.mkdir(parents=True, exist_ok=True)

    def save(self, target, name, *, full_page=False, max_height=None, fold=None):
        """Screenshot a page (viewport, or the whole page up to ``max_height``) or a locator.

        ``fold=(top, bottom)``: a picture taller than that keeps only its top and bottom
        parts, joined by a dashed line (for long forms such as the list of units)."""
        if hasattr(target, "set_viewport_size"):
            options = {}
            if full_page:
                height = target.evaluate("document.documentElement.scrollHeight")
                width = target.viewport_size["width"]
                options = {
                    "full_page": True,
                    "clip": {"x": 0, "y": 0, "width": width, "height": min(height, max_height or height)},
                }
            data = target.screenshot(animations="disabled", **options)
        else:
            target.scroll_into_view_if_needed()
            data = target.screenshot(animations="disabled")
        path = self.out / f"{name}.png"
        size = write_png(data, path, fold)
        self.saved.append(path)
        say(f"  ✓ {path.relative_to(REPO) if path.is_relative_to(REPO) else path}  ({size // 1024} KB)")


def fold_image(image, top, bottom):
    from PIL import Image, ImageDraw

    width, height = image.size
    if height <= top + bottom:
        return image
    gap = 24
    folded = Image.new("RGB", (width, top + gap + bottom), (243, 244, 246))
    folded.paste(image.crop((0, 0, width, top)), (0, 0))
    folded.paste(image.crop((0, height - bottom, width, height)), (0, top + gap))
    draw = ImageDraw.Draw(folded)
    for x in range(0, width, 12):
        draw.line((x, top + gap // 2, x + 6, top + gap // 2), fill=(156, 163, 175), width=2)
    return folded


def write_png(data, path, fold=None):
    """Write a PNG, reduced to a 256-colour palette when it is large; returns the size."""
    from PIL import Image

    image = Image.open(io.BytesIO(data)).convert("RGB")
    if fold:
        image = fold_image(image, *fold)
    buffer = io.BytesIO()
    image.save(buffer, "PNG", optimize=True)
    if buffer.tell() > SMALL_ENOUGH:
        buffer = io.BytesIO()
        image.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(
            buffer, "PNG", optimize=True
        )
    if buffer.tell() > TARGET:
        say(f"  ! {path.name} 仍有 {buffer.tell() // 1024} KB")
    path.write_bytes(buffer.getvalue())
    return buffer.tell()


def sample_photo():
    """A small JPEG to attach where a form takes photos."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (120, 130, 140)).save(buffer, "JPEG")
    return buffer.getvalue()


# --- the browser ----------------------------------------------------------------------


class Browser:
    def __init__(self, playwright, base):
        self.base = base
        self.browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)

    def page(self, phone=False, user=None, viewport=None):
        context = self.browser.new_context(
            locale="zh-CN",
            timezone_id="Asia/Shanghai",
            viewport=viewport or (PHONE if phone else DESK),
            device_scale_factor=1,
            geolocation=POSITION,
            permissions=["geolocation"],
        )
        context.set_default_timeout(20000)
        page = context.new_page()
        page.on("pageerror", lambda error: say(f"  ! 页面脚本错误：{error}"))
        if user:
            self.sign_in(page, user)
        return page

    def sign_in(self, page, username):
        page.goto(f"{self.base}/login/")
        page.fill("#id_username", username)
        page.fill("#id_password", PASSWORD)
        page.click("form.form button[type=submit]")
        page.wait_for_load_state()
        if "/login/" in page.url:
            raise SystemExit(f"{username} 登录失败：演示账号不存在或密码不对。")

    def close(self):
        self.browser.close()


def open_action(page, action):
    """Unfold an action's form on the case page (the main ones are already open)."""
    details = page.locator(f"#action-{action}")
    if details.get_attribute("open") is None:
        details.locator("summary").click()
    return details


def expect_status(page, text):
    from playwright.sync_api import expect

    expect(page.locator("[data-status]").first).to_have_text(text)


def run(browser, shots, base):
    from playwright.sync_api import expect

    # 1. 居民: the portal on a phone, without an account.
    say("居民 resident")
    resident = browser.page(phone=True)
    resident.goto(f"{base}/portal/")
    resident.fill(
        "#id_description", "东湖小区北门外每天傍晚有人占道摆摊卖水果，人行道被堵住，老人只能走机动车道，很危险。"
    )
    resident.fill("#id_reporter_phone", RESIDENT_PHONE)
    resident.fill("#id_reporter_name", "刘女士")
    resident.click("[data-locate]")
    expect(resident.locator("#id_lat")).not_to_have_value("")
    shots.save(resident, "resident-portal")
    resident.click("form.form button[type=submit]")
    number = resident.locator("[data-case-number]").inner_text().strip()
    say(f"  工单 {number}")
    shots.save(resident, "resident-submitted")
    resident.goto(f"{base}/portal/")
    resident.click("button:has-text('长辈模式')")
    expect(resident.locator("html")).to_have_class("elderly")
    resident.fill("#id_description", "楼下路灯坏了")
    shots.save(resident, "resident-elderly")
    resident.click("button:has-text('退出长辈模式')")

    # 2. 话务员/窗口受理员: the intake form (filled in, not submitted).
    say("话务员 operator")
    operator = browser.page(user="operator")
    operator.goto(f"{base}/cases/intake/")
    operator.select_option("#id_channel", "12345")
    operator.fill("#id_reporter_name", "赵先生")
    operator.fill("#id_reporter_phone", "13911112222")
    operator.fill("#id_description", "西园路12号底商装修，晚上十点以后还在电钻施工，噪音很大，影响休息。")
    # The category search offers matches as one types; pick one of them.
    operator.fill("input[name=catq]", "噪音")
    matches = operator.locator("select[name=catpick]")
    expect(matches).to_be_visible(timeout=30000)  # the first search of a fresh server loads the model
    noise = matches.locator("option", has_text="噪音污染").first.get_attribute("value")
    matches.select_option(noise)
    expect(operator.locator(".picked")).to_contain_text("噪音污染")
    shots.save(operator, "operator-intake")
    # A consultation answered from the knowledge base (直接答复), not submitted …
    operator.goto(f"{base}/cases/intake/")
    operator.fill("#id_reporter_phone", "13911113333")
    operator.fill("#id_description", "我妈想办个老年证，要带什么材料")
    operator.locator("li.kb-item button.kb-use").first.click()
    expect(operator.locator("input[name=outcome][value=answered]")).to_be_checked()
    operator.locator("[data-outcome]").scroll_into_view_if_needed()
    shots.save(operator, "operator-answer")
    # … and the desk: the callbacks waiting (回访) with the unit's reply.
    operator.goto(f"{base}/cases/desk/")
    shots.save(operator, "operator-desk")

    # 3. 派单员: classify the resident's case, then dispatch it by the suggestion.
    say("派单员 dispatcher")
    dispatcher = browser.page(user="dispatcher")
    dispatcher.goto(f"{base}/cases/dispatch/?tab=unclassified")
    item = dispatcher.locator(f"article[data-case='{number}']")
    item.locator("select[name=cat1]").select_option(CATEGORY[0])
    item.locator("select[name=cat2]").select_option(CATEGORY[1])
    item.locator("select[name=cat3]").select_option(CATEGORY[2])
    expect(item.locator(".picked")).to_contain_text("城管执法")
    item.scroll_into_view_if_needed()
    shots.save(dispatcher, "dispatcher-classify")
    item.locator("[data-classify]").click()
    dispatcher.goto(f"{base}/cases/dispatch/?tab=new")
    item = dispatcher.locator(f"article[data-case='{number}']")
    expect(item.locator("[data-dispatch]")).to_contain_text("综合执法队")
    item.locator("details.override summary").click()
    shots.save(dispatcher, "dispatcher-queue")
    item.locator("[data-dispatch]").click()
    expect(dispatcher.locator(".msg-success")).to_contain_text(number)

    # 4. 承办单位: the workbench, the case page, respond, ask for an extension.
    say("承办人 handler")
    handler = browser.page(user="handler")
    handler.goto(f"{base}/cases/workbench/")
    expect(handler.locator(f"tr[data-case='{number}']")).to_be_visible()
    shots.save(handler, "handler-workbench")
    handler.goto(f"{base}/cases/{number}/")
    expect_status(handler, "待响应")
    open_action(handler, "return")
    handler.fill("#id_respond_note", "已电话联系刘女士，今天傍晚到现场")
    shots.save(handler, "handler-respond")
    handler.click("[data-action=respond]")
    expect_status(handler, "办理中")
    open_action(handler, "request_extension")
    handler.fill("#id_request_extension_extra_workdays", "2")
    handler.fill("#id_request_extension_reason", "摊贩流动，需与区城管委派驻组联合蹲守执法")
    handler.locator("#action-request_extension").scroll_into_view_if_needed()
    shots.save(handler, "handler-case")
    handler.click("[data-action=request_extension]")
    expect(handler.locator(".msg-success")).to_be_visible()

    # 5. 派单员 again: 吹哨报到 — summon two more units to the case.
    dispatcher.goto(f"{base}/cases/{number}/")
    whistle = open_action(dispatcher, "whistle")
    for code in SUMMONED:
        whistle.locator(f"input[name=units][value='{code}']").check()
    dispatcher.fill("#id_whistle_report_hours", "24")
    dispatcher.fill("#id_whistle_reason", "占道经营反复出现，请城管派驻组和东湖社区居委会共同到场")
    # The list offers every unit: keep its first three rows and the end of the form.
    cut = whistle.locator("input[name=units]").nth(3).bounding_box()["y"] - whistle.bounding_box()["y"] - 10
    shots.save(whistle, "dispatcher-whistle", fold=(int(cut), 330))
    dispatcher.click("[data-action=whistle]")
    expect(dispatcher.locator("#whistles")).to_be_visible()

    # 6. 领导: overview (三率), pending extensions, then 督办.
    say("领导 leader")
    leader = browser.page(user="leader")
    leader.goto(f"{base}/cases/overview/")
    expect(leader.locator("[data-rate=satisfaction]")).to_be_visible()
    leader.wait_for_timeout(500)
    shots.save(leader, "leader-overview")
    extension = leader.locator(".ext-item", has_text=number)
    expect(extension).to_be_visible()
    shots.save(leader.locator("#extensions"), "leader-extensions")
    extension.locator("button.btn-primary").click()
    expect(leader.locator(".msg-success")).to_contain_text(number)
    leader.goto(f"{base}/cases/{number}/")
    open_action(leader, "supervise")
    leader.fill("#id_supervise_note", "群众反映强烈，请本周内办结并回复居民")
    reply_by = dt.datetime.now(dt.timezone(dt.timedelta(hours=8))).replace(
        hour=17, minute=0, second=0, microsecond=0
    ) + dt.timedelta(days=2)
    leader.fill("#id_supervise_due", reply_by.strftime("%Y-%m-%dT%H:%M"))
    leader.click("[data-action=supervise]")
    expect(leader.locator("[data-supervised]")).to_be_visible()
    leader.goto(f"{base}/cases/overview/")
    shots.save(leader.locator("#attention"), "leader-attention")

    # The cockpit (驾驶舱), its large screen (大屏) and the evaluator's rankings.
    say("驾驶舱 cockpit")
    cockpit = browser.page(user="leader", viewport=WIDE)
    cockpit.goto(f"{base}/cockpit/")
    expect(cockpit.locator("#cockpit[data-loaded='1']")).to_be_attached(timeout=30000)
    cockpit.wait_for_timeout(1000)  # the charts' entry animation
    shots.save(cockpit, "leader-cockpit", full_page=True, max_height=1500)
    screen = browser.page(user="leader", viewport={"width": 1920, "height": 1080})
    screen.goto(f"{base}/cockpit/screen/")
    expect(screen.locator("#cockpit[data-loaded='1']")).to_be_attached(timeout=30000)
    screen.wait_for_timeout(1000)
    shots.save(screen, "leader-screen")
    evaluator = browser.page(user="evaluator")
    evaluator.goto(f"{base}/evaluation/rankings/")
    shots.save(evaluator, "evaluator-rankings", full_page=True, max_height=1300)

    # 7. A summoned unit reports (报到) from its workbench.
    say("被召集单位 summoned unit")
    summoned = browser.page(user="handler_cg")
    summoned.goto(f"{base}/cases/workbench/")
    expect(summoned.locator(".whistle-box")).to_contain_text(number)
    shots.save(summoned, "handler-whistle")
    summoned.goto(f"{base}/cases/{number}/")
    summoned.fill("#id_report_part", "派驻组两名执法队员今晚18点到东湖小区北门联合执法")
    summoned.click("[data-action=report]")
    expect(summoned.locator(".msg-success")).to_be_visible()

    # 8. The unit: notifications, the case page with its timeline, resolve.
    handler.goto(f"{base}/notifications/")
    shots.save(handler, "notifications")
    handler.goto(f"{base}/cases/{number}/")
    handler.fill("#id_resolve_result", "已会同区城管委派驻组劝离摊贩，在北门设置疏导点，并安排每日傍晚巡查。")
    shots.save(handler, "case-timeline", full_page=True, max_height=2200)
    handler.click("[data-action=resolve]")
    expect_status(handler, "待核查")

    # 9. 网格员: the quick report (filled in, not sent), then the on-site check.
    say("网格员 grid worker")
    grid = browser.page(phone=True, user="grid")
    grid.goto(f"{base}/cases/grid-report/")
    grid.fill("#id_description", "湖光里3号楼东侧井盖松动，踩上去有响声")
    grid.set_input_files("#id_photos", files=[{"name": "井盖.jpg", "mimeType": "image/jpeg", "buffer": sample_photo()}])
    grid.click("[data-locate]")
    expect(grid.locator("#id_lat")).not_to_have_value("")
    shots.save(grid, "grid-report")
    grid.goto(f"{base}/cases/{number}/")
    verify = grid.locator("#action-verify_pass")
    verify.scroll_into_view_if_needed()
    # On site: a photo and the phone's position (where the resident reported it).
    photo = {"name": "北门.jpg", "mimeType": "image/jpeg", "buffer": sample_photo()}
    grid.set_input_files("#id_verify_pass_photos", files=[photo])
    verify.locator("[data-locate]").click()
    expect(verify.locator("[data-locate-status]")).to_contain_text("已定位")
    grid.fill("#id_verify_pass_note", "现场查看，北门人行道已畅通")
    shots.save(grid, "grid-verify")
    grid.click("[data-action=verify_pass]")
    expect(grid.locator(".msg-success")).to_be_visible()

    # 10. 居民: track the case and rate it.
    say("居民回访评价 resident rating")
    resident.goto(f"{base}/portal/track/?number={number}")
    resident.fill("#id_phone", RESIDENT_PHONE)
    resident.click("form.form button[type=submit]")
    expect_status(resident, "待回访")
    resident.check("input[name=resolved][value=yes]")
    resident.check("input[name=satisfaction][value=satisfied]")
    resident.fill("#rate textarea", "现在人行道通畅了，谢谢！")
    shots.save(resident, "resident-track", full_page=True, max_height=2300)
    resident.click("#rate button[type=submit]")
    expect_status(resident, "已结案")

    # 11. 管理员: the Django admin.
    say("管理员 administrator")
    admin = browser.page(user="admin", viewport=WIDE)  # the admin's lists are wide
    admin.goto(f"{base}/admin/org/unit/")
    toggle = admin.locator("#toggle-nav-sidebar")
    if toggle.count() and toggle.is_visible():
        toggle.click()  # fold the admin's side navigation (remembered by the browser)
        admin.goto(f"{base}/admin/org/unit/")
        admin.evaluate("window.scrollTo(0, 0)")
    shots.save(admin, "admin-units")
    admin.goto(f"{base}/admin/cases/category/?q=0102")
    shots.save(admin, "admin-categories")

    # 12. Public pages: the responsibility list and the API documentation.
    say("公开页面 public pages")
    public = browser.page()
    response = public.goto(f"{base}/duties/?q=%E6%A5%BC%E9%81%93%E5%A0%86%E7%89%A9")
    if response is not None and response.ok:
        shots.save(public, "duties-search", full_page=True, max_height=1250)
    else:
        say("  （没有权责清单页面，跳过）")
    public.goto(f"{base}/api/v1/docs")
    try:
        public.wait_for_selector(".swagger-ui .opblock", timeout=20000)
    except Exception:
        say("  ! 接口文档没有完全显示")
    shots.save(public, "api-docs")

    # 13. The English switch, on the unit's workbench.
    say("English")
    english = browser.page(user="handler")
    english.goto(f"{base}/cases/workbench/")
    english.click("button[name=language][value=en]")
    expect(english.locator("html")).to_have_attribute("lang", "en")
    shots.save(english, "english-workbench")
    return number


def main(argv=None):
    parser = argparse.ArgumentParser(description="Screenshots for docs/user-guide.md from the running demo street.")
    parser.add_argument("--out", default=str(REPO / "docs" / "images"), help="where the PNGs go (docs/images)")
    parser.add_argument("--port", type=int, default=8501)
    parser.add_argument(
        "--data-dir",
        default=os.environ.get("JIEDAO_DATA_DIR", "/tmp/jiedao-shots"),
        help="the demo's own data directory (JIEDAO_DATA_DIR, default /tmp/jiedao-shots)",
    )
    parser.add_argument("--cases", type=int, default=3000, help="cases to simulate when the demo is built")
    parser.add_argument("--rebuild", action="store_true", help="delete the demo database there and build it again")
    options = parser.parse_args(argv)

    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        sys.exit("需要 playwright：.venv/bin/pip install -e '.[test]'")
    if not Path(CHROMIUM).exists():
        sys.exit(f"需要 Chromium：{CHROMIUM}（Debian 软件包 chromium）")

    out = Path(options.out).resolve()
    data_dir = Path(options.data_dir).resolve()
    started = time.monotonic()
    ensure_demo(data_dir, options.cases, options.rebuild)
    server = start_server(data_dir, options.port)
    shots = Shots(out)
    try:
        with sync_playwright() as playwright:
            browser = Browser(playwright, f"http://127.0.0.1:{options.port}")
            try:
                number = run(browser, shots, browser.base)
            finally:
                browser.close()
    finally:
        stop_server(server)
    say(f"完成：{len(shots.saved)} 张截图保存在 {out}（演示工单 {number}，用时 {time.monotonic() - started:.0f} 秒）。")


if __name__ == "__main__":
    main()
