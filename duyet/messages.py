"""Every user-visible sentence of duyet outside the Jinja2 templates, in Vietnamese."""

from __future__ import annotations

from typing import Any

# Findings of the plan importer and linter, by code. Parameters are filled with str.format.
FINDINGS: dict[str, str] = {
    # time words
    "no-time": "Không ghi thời gian thực hiện",
    "no-date": "Thời gian «{text}» không xác định được hạn chót",
    "year-mismatch": "Năm {year} trong «{text}» khác năm của kế hoạch ({plan_year})",
    "unparsed-time": "Không hiểu được thời gian «{text}»",
    "ignored-time-words": "Đã bỏ qua «{words}» khi đọc thời gian «{text}»",
}

FINDINGS.update(
    {
        # units
        "unresolved-unit": "Không tìm thấy đơn vị «{name}» ({field}) trong danh mục đơn vị",
        "not-a-unit": "«{name}» ({field}) không phải là đơn vị trong cơ quan; không gửi thư được",
        "duplicate-unit": "Đơn vị «{name}» được ghi hai lần ({field})",
        "several-leads": "Có {count} đơn vị chủ trì: {names}",
        "no-lead": "Không ghi đơn vị chủ trì",
    }
)

# Why an input is not a plan (exit code 2).
NOT_A_PLAN: dict[str, str] = {
    "missing": "Không tìm thấy tệp {path}.",
    "empty": "Tệp {path} rỗng: cần một kế hoạch (.txt trích từ Word hoặc .docx).",
    "binary": (
        "Tệp {path} không phải văn bản: cần tệp .txt (UTF-8) trích từ Word "
        "hoặc tệp .docx có bảng nội dung kế hoạch."
    ),
    "encoding": (
        "Tệp {path} không phải văn bản UTF-8 (byte lỗi ở vị trí {offset}): "
        "hãy lưu lại dưới dạng UTF-8 hoặc dùng tệp .docx."
    ),
    "docx": "Không đọc được tệp Word {path}: tệp .docx bị hỏng hoặc không phải .docx.",
    "no-table": (
        "Tệp {path} không có bảng nội dung kế hoạch: cần một bảng có các cột "
        "Stt, Nội dung, Đơn vị chủ trì, Đơn vị phối hợp, Sản phẩm, Thời gian."
    ),
    "no-columns": (
        "Bảng ở dòng {line} của {path} thiếu cột {missing}: cần các cột Stt, Nội dung "
        "và ít nhất Đơn vị chủ trì hoặc Thời gian."
    ),
    "no-lines": "Bảng ở dòng {line} của {path} không có dòng nhiệm vụ nào (mã như 1.1, 1.4.a).",
    "bad-year": (
        "Năm {year} ở dòng {line} của {path} không phải năm của một kế hoạch: cần một năm như 2023."
    ),
}

COLUMN_NAMES: dict[str, str] = {
    "code": "Stt",
    "title": "Nội dung",
    "lead": "Đơn vị chủ trì",
    "partners": "Đơn vị phối hợp",
    "product": "Sản phẩm",
    "time": "Thời gian",
}

FINDINGS.update(
    {
        # header
        "number-unassigned": "Chưa có số văn bản (văn thư cấp số khi ban hành)",
        "date-incomplete": "Ngày ban hành chưa đầy đủ (năm {year})",
        "no-issuer": "Không xác định được cơ quan ban hành; dùng «{issuer}» theo danh mục đơn vị",
        "no-year": "Không xác định được năm của kế hoạch; dùng năm {year}",
    }
)

FIELD_NAMES: dict[str, str] = {
    "title": "nội dung",
    "lead": "đơn vị chủ trì",
    "partners": "đơn vị phối hợp",
    "product": "sản phẩm",
    "time": "thời gian",
}

FINDINGS.update(
    {
        # structure
        "orphan-letter": "Mục «{code}» đánh chữ nhưng không thuộc nhóm nhiệm vụ nào",
        "bad-code": "Không hiểu số thứ tự «{code}»",
        "no-title": "Mục {code} không có nội dung",
        "section-mismatch": "Mục {code} không thuộc phần đang xét",
        "missing-code": "Thiếu mục {code} (giữa {before} và {after})",
        "duplicate-code": "Mục {code} bị trùng (đã có ở dòng {first})",
        "out-of-order": "Mục {code} đứng sau {before}: sai thứ tự",
        "typo": "Có thể viết sai «{found}» trong {field}: nên là «{expected}»",
    }
)


# Review-cycle stages and reviewers' verdicts, by their stored value.
class _ByStage(dict[str, str]):
    """Texts by stage key; `review.x` with no text of its own reads as its kind, `review`."""

    def __missing__(self, key: str) -> str:
        kind = key.split(".", 1)[0]
        if kind == key:
            raise KeyError(key)
        return self[kind]


STAGES: dict[str, str] = _ByStage(
    {
        "draft": "dự thảo",
        "review": "lấy ý kiến",
        "approval": "phê duyệt",
        "publication": "ban hành",
        "closed": "kết thúc",
        # the legal-normative process (definitions/processes/legal-normative.yaml)
        "review.opinions": "lấy ý kiến cơ quan, đơn vị và Nhân dân",
        "review.appraisal": "thẩm định của Sở Tư pháp",
        "approval.submission": "trình UBND tỉnh",
        "approval.issuance": "UBND tỉnh ban hành",
    }
)


def capitalize(text: str) -> str:
    """Upper-case the first letter only: `trình UBND tỉnh` -> `Trình UBND tỉnh` (Jinja's own
    filter would lower-case the acronym)."""
    return text[:1].upper() + text[1:]


def stage_name(stage: str) -> str:
    """How users read a stage key."""
    return STAGES[stage]


VERDICTS: dict[str, str] = {
    "approve": "đồng ý",
    "changes": "đồng ý, có góp ý",
    "reject": "không đồng ý",
}

# Refusals of the records store, by error code (records.errors, definitions.stage_rules).
RECORD_ERRORS: dict[str, str] = {
    "illegal-transition": "Không được chuyển từ giai đoạn «{current}» sang «{target}»",
    "already-decided": "Đơn vị {unit} đã cho ý kiến ở giai đoạn «{stage}», vòng {round}",
    "token-unknown": "Đường dẫn không hợp lệ",
    "token-expired": "Đường dẫn đã hết hạn",
    "token-used": "Đường dẫn đã được sử dụng",
    "token-revoked": "Đường dẫn đã bị thu hồi",
    "document-too-large": "Tệp {size} byte vượt giới hạn {limit} byte",
    "media-type-refused": "Không nhận loại tệp {media_type}",
    "version-exists": "Vòng {round} đã có một phiên bản tài liệu khác",
    "no-document": "Chu trình chưa có phiên bản tài liệu nào",
    "version-unchanged": "Phiên bản mới giống hệt phiên bản của vòng {round}: cần sửa theo góp ý",
    "cycle-unknown": "Không tìm thấy chu trình {cycle_id}",
    "cycle-moved": (
        "Chu trình đang ở giai đoạn «{stage}», vòng {round}: thao tác này không còn hiệu lực"
    ),
    "cycle-closed": "Chu trình đã kết thúc",
    "line-unknown": "Không tìm thấy dòng {code} trong kế hoạch {plan_key}",
    "schema-not-current": (
        "Cơ sở dữ liệu ở phiên bản {current}, mã nguồn cần {head}: hãy chạy `duyet db upgrade`"
    ),
    "mail-unknown": "Không tìm thấy thư {mail_id} trong hàng đợi",
    "already-published": "Chu trình đã ban hành văn bản số {number}/{symbol}",
    "number-not-issued": (
        "Số {number} chưa được cấp trong sổ đăng ký văn bản đi {type_key} năm {year} "
        "của {issuer_code}"
    ),
    "publication-unknown": "Không tìm thấy văn bản đã ban hành {id}",
}

# `duyet db …`
DB_MESSAGES: dict[str, str] = {
    "help": "Cơ sở dữ liệu hồ sơ: nâng cấp, hạ cấp và xem phiên bản lược đồ.",
    "upgrade.help": "Nâng lược đồ lên phiên bản mới nhất (hoặc lên REVISION).",
    "downgrade.help": "Hạ lược đồ xuống một bước (hoặc về REVISION).",
    "current.help": "In phiên bản lược đồ hiện tại.",
    "revision.help": "Phiên bản đích của Alembic",
    "upgraded": "Đã nâng cấp {url} lên phiên bản {revision}.",
    "downgraded": "Đã hạ cấp {url} về phiên bản {revision}.",
    "current": "Phiên bản lược đồ của {url}: {revision}",
    "empty": "chưa có lược đồ (hãy chạy «duyet db upgrade»)",
}

# `duyet audit …`
AUDIT_MESSAGES: dict[str, str] = {
    "help": "Nhật ký kiểm toán: kiểm tra chuỗi băm, xuất và xem lịch sử.",
    "verify.help": "Kiểm tra toàn bộ chuỗi nhật ký; mã thoát 1 nếu chuỗi bị phá vỡ.",
    "expect-head.help": "Mã băm đầu chuỗi đã ghi lại trước đây (phát hiện phần cuối bị cắt)",
    "export.help": "Xuất nhật ký cho kiểm toán viên (csv, json hoặc xlsx).",
    "show.help": "Xem lịch sử của một dòng kế hoạch theo thời gian.",
    "line.help": "Chỉ lấy các sự kiện của dòng kế hoạch CODE",
    "plan.help": "Chỉ lấy các sự kiện của kế hoạch PLAN",
    "format.help": "Định dạng: csv, json hoặc xlsx",
    "output.help": "Tệp kết quả (mặc định: in ra màn hình; xlsx bắt buộc có tệp)",
    "intact": "{count} bản ghi, chuỗi toàn vẹn.",
    "head": "Mã băm đầu chuỗi: {hash}",
    "anchors": "Đối chiếu với {count} mốc đã công bố trên Prefect (mới nhất: seq {seq}, lúc {at}).",
    "no-anchors": "Chưa có mốc nào được công bố trên Prefect: chỉ kiểm tra được nội bộ chuỗi.",
    "anchors-unavailable": (
        "Không đọc được các mốc trên Prefect ({error}): chỉ kiểm tra được nội bộ chuỗi."
    ),
    "anchors.help": "Đối chiếu với các mốc đầu chuỗi mà sweeper đã công bố trên Prefect",
    "broken": "Chuỗi bị phá vỡ tại seq {seq}: {reason}.",
    "xlsx-needs-output": "Định dạng xlsx cần tùy chọn -o TỆP.",
    "exported": "Đã xuất {count} bản ghi ra {path}.",
    "no-history": "Không có sự kiện nào cho dòng {code}.",
    "timeline": "Lịch sử dòng {code}",
    "sheet": "Nhật ký",
}

# Why `duyet audit verify` found the chain broken, by reason code (records.audit).
AUDIT_BREAKS: dict[str, str] = {
    "missing": "thiếu bản ghi (đã bị xóa)",
    "inserted": "có bản ghi lạ mang seq {found} (đã bị chèn thêm)",
    "prev-hash": (
        "prev_hash không khớp mã băm của bản ghi trước (bản ghi trước bị sửa hoặc bị đảo thứ tự)"
    ),
    "hash": "mã băm không khớp nội dung bản ghi (nội dung hoặc mã băm đã bị sửa)",
    "payload": "payload không phải JSON chuẩn tắc (đã bị sửa)",
    "truncated": (
        "không thấy mã băm đầu chuỗi đã ghi lại; chuỗi dừng ở seq {last} (phần cuối bị cắt, "
        "hoặc chuỗi đã bị viết lại từ một bản ghi trước đó)"
    ),
    "anchor": (
        "mã băm khác mốc đã công bố ngoài cơ sở dữ liệu lúc {at} (chuỗi đã bị viết lại "
        "từ bản ghi này hoặc trước đó)"
    ),
    "anchor-beyond": (
        "chuỗi dừng ở seq {last} nhưng mốc công bố lúc {at} đã ghi tới seq {seq} (phần cuối bị cắt)"
    ),
}

# Audit actions as shown in `duyet audit show`.
AUDIT_ACTIONS: dict[str, str] = {
    "plan.imported": "Nhập kế hoạch",
    "lines.deployed": "Triển khai các dòng",
    "cycle.opened": "Mở chu trình",
    "cycle.flow_attached": "Gắn lượt chạy Prefect",
    "version.submitted": "Nộp phiên bản tài liệu",
    "link.issued": "Cấp đường dẫn",
    "link.opened": "Mở đường dẫn",
    "link.revoked": "Thu hồi đường dẫn",
    "decision.recorded": "Ghi nhận ý kiến",
    "stage.advanced": "Chuyển giai đoạn",
    "mail.queued": "Xếp thư vào hàng đợi",
    "mail.sent": "Đã gửi thư",
    "mail.failed": "Gửi thư không thành công",
    "document.published": "Ban hành tài liệu",
    "document.issued": "Cấp số, ký số văn bản",
    "cycle.cancelled": "Hủy chu trình",
    "cycle.rejected": "Kết thúc chu trình: không được thông qua",
}

CLI_CALENDAR: dict[str, str] = {
    "bad-date": "Ngày không hợp lệ: {text} (dùng dạng YYYY-MM-DD, ví dụ 2024-02-07).",
    "weekend": "Thứ Bảy/Chủ nhật",
    "day-off": "Ngày nghỉ của cơ quan",
    "skipped": "  bỏ qua {day}: {reason}",
    "off": "{day}  nghỉ: {reason}",
    "worked": "{day}  làm việc bù (cuối tuần)",
}

CLI_PLAN: dict[str, Any] = {
    "error": "Lỗi:",
    "columns": ["Mã", "Nội dung", "Chủ trì", "Số đơn vị phối hợp", "Hạn", "Lặp lại", "Cảnh báo"],
    "lint_columns": ["Dòng", "Mục", "Mức", "Mã", "Nội dung"],
    "error_level": "lỗi",
    "warning_level": "cảnh báo",
    "recurrence": {
        "monthly": "hàng tháng",
        "quarterly": "hàng quý",
        "semiannual": "6 tháng",
        "annual": "hàng năm",
    },
    "summary": "{lines} dòng nhiệm vụ — {issuer}, năm {year} — {warnings} cảnh báo.",
    "written": "Đã ghi định nghĩa kế hoạch vào {path}",
    "recorded": "Đã lưu kế hoạch {plan} vào cơ sở dữ liệu hồ sơ: phiên bản {version}.",
    "lint_summary": "{lines} dòng nhiệm vụ: {warnings} cảnh báo, {errors} lỗi.",
    "duplicate-line": (
        "Mục {code} ở dòng {line} trùng mã với dòng {first}: mỗi nhiệm vụ cần một mã riêng. "
        "Chưa ghi gì; xin sửa mã rồi nhập lại."
    ),
    "units-outside": (
        "Danh mục đơn vị {path} nằm ngoài thư mục định nghĩa {root}: kế hoạch chỉ ghi được "
        "danh mục trong thư mục đó. Xin chép tệp vào {root} rồi nhập lại."
    ),
}

# `duyet audit show`: column headings and one summary per action (filled from the event payload).
TIMELINE_COLUMNS: dict[str, str] = {
    "at": "Thời gian",
    "action": "Sự kiện",
    "actor": "Người thực hiện",
    "detail": "Chi tiết",
}
AUDIT_SUMMARIES: dict[str, str] = {
    "plan.imported": "Kế hoạch {plan_key}, phiên bản {version}",
    "lines.deployed": "Kế hoạch {plan_key}, phiên bản {version}",
    "cycle.opened": "Chu trình {cycle_id}, hạn {due}",
    "cycle.flow_attached": "Lượt chạy {flow_run_id}",
    "version.submitted": "Vòng {round}: {filename} ({size} byte, sha256 {sha256})",
    "link.issued": "Vòng {round}, {stage}: gửi {recipient_unit} <{recipient_email}>",
    "link.opened": "Vòng {round}, {stage}: {state}, từ {client_ip}",
    "link.revoked": "Vòng {round}, {stage}: {recipient_unit} — {reason}",
    "decision.recorded": "Vòng {round}, {stage}: {reviewer_unit} {verdict} — {comment}",
    "stage.advanced": "{from_stage} → {to_stage}, vòng {round}",
    "mail.queued": "{kind} → {to}",
    "mail.sent": "Thư {mail_id}, lần thử {attempts}",
    "mail.failed": "Thư {mail_id}, lần thử {attempts}: {error}",
    "document.published": "{filename} (sha256 {sha256})",
    "document.issued": (
        "Số thứ tự {number} của sổ {symbol}, ngày {issued_on}: {filename} (sha256 {sha256})"
    ),
    "cycle.cancelled": "Từ giai đoạn {from_stage}: {reason}",
    "cycle.rejected": "Từ giai đoạn {from_stage}, vòng {round}: {verdict}",
}
LINK_STATES: dict[str, str] = {
    "valid": "còn hiệu lực",
    "used": "đã dùng",
    "revoked": "đã thu hồi",
    "expired": "hết hạn",
}

CLI: dict[str, str] = {
    "error": "Lỗi:",
    "database-unreachable": (
        "Không kết nối được cơ sở dữ liệu hồ sơ {url}: kiểm tra DUYET_DATABASE_URL "
        "và máy chủ cơ sở dữ liệu."
    ),
}

DEMO: dict[str, str] = {
    "title": "duyet — trình diễn: nhập kế hoạch mẫu và kiểm tra chuỗi nhật ký",
    "step-import": "1. Nhập kế hoạch mẫu {path}",
    "step-lint": "2. Các điểm cần xem lại trong kế hoạch (không tự sửa)",
    "step-record": "3. Lưu vào cơ sở dữ liệu hồ sơ ({url})",
    "step-audit": "4. Kiểm tra chuỗi nhật ký kiểm toán",
    "recorded": "Kế hoạch {plan}: phiên bản {version} trong cơ sở dữ liệu hồ sơ.",
    "intact": "{count} bản ghi nhật ký, chuỗi nguyên vẹn. Mã băm đầu chuỗi: {head}",
    "broken": "Chuỗi nhật ký bị hỏng ở seq {seq}: {reason}",
    "done": "Xong. Định nghĩa kế hoạch: {path}",
    "live-title": "Chu trình duyệt thật: Prefect, thư điện tử và cổng thông tin trên máy này",
    "step-up": "5. Khởi động hệ thống (duyet up)",
    "starting": "Đang khởi động Prefect, worker, cổng thông tin, bộ gửi thư và hộp thư thử nghiệm…",
    "port-in-use": "Cổng {port} đang được dùng: dừng chương trình đó hoặc đặt {variable}.",
    "step-play": (
        "6. Văn phòng mở chu trình cho dòng {code}; các đơn vị trả lời qua đường dẫn trong thư"
    ),
    "opened": "Đã mở chu trình {cycle} cho dòng {code} (lượt chạy Prefect {run})",
    "waiting-mail": "Đang chờ thư «{kind}»…",
    "waiting-stage": "Đang chờ chu trình sang giai đoạn {stage}, vòng {round}…",
    "waiting-publication": "Đang chờ ban hành…",
    "published": "Đã ban hành: {title}\n  {url} — {verdict}",
    "signature-ok": "chữ ký số hợp lệ, tệp khớp sổ văn bản",
    "signature-bad": "CHỮ KÝ SỐ KHÔNG HỢP LỆ",
    "no-register": "Sổ văn bản đã ban hành trống: văn bản chưa được cấp số.",
    "http": "{to}: GET → {get}, POST {decision} → {post}",
    "step-trail": "7. Lịch sử của dòng (nhật ký kiểm toán)",
    "states": "Các trạng thái của lượt chạy Prefect: {states}",
    "live-done": "Hoàn tất. Cổng thông tin: {portal}  Hộp thư: {inbox}",
    "kept": "Hệ thống vẫn chạy (--keep). Nhấn Ctrl-C để dừng.",
    "stopping": "Đang dừng hệ thống…",
}

# Mail (notifications/): subjects by kind, always "{code} — …". Fields: code, round, stage,
# deadline, days, filename, count, date, units, to, period (see
# notifications.render.subject_fields); a report has no line: its number is the code.
MAIL_SUBJECTS: dict[str, str] = {
    "draft_request": "{code} — Đề nghị xây dựng dự thảo (vòng {round}), hạn {deadline}",
    "review_request": "{code} — Đề nghị góp ý dự thảo (vòng {round}), hạn {deadline}",
    "approval_request": "{code} — Trình phê duyệt dự thảo (vòng {round}), hạn {deadline}",
    "changes_requested": (
        "{code} — Đề nghị tiếp thu ý kiến, hoàn chỉnh dự thảo (vòng {round}), hạn {deadline}"
    ),
    "rejected": "{code} — Dự thảo không được thông qua (vòng {round})",
    "published": "{code} — Văn bản đã ban hành: {filename}",
    "reminder": "{code} — Nhắc hạn {stage} (vòng {round}): hạn {deadline}",
    "escalation": "{code} — Quá hạn {stage} (vòng {round}): {units}",
    "digest": "{code} — Tổng hợp {count} việc cần xử lý đến ngày {date}",
    "cancelled": "{code} — Dừng xử lý nhiệm vụ (vòng {round})",
    "dead_letter": "{code} — Thư không gửi được tới {to}",
    "progress_report": "{code} — Báo cáo kết quả thực hiện kế hoạch {period}",
}

# Mail: labels of each kind (CLI, the dead-letter notice).
MAIL_KINDS: dict[str, str] = {
    "draft_request": "Đề nghị xây dựng dự thảo",
    "review_request": "Đề nghị góp ý",
    "approval_request": "Trình phê duyệt",
    "changes_requested": "Đề nghị hoàn chỉnh dự thảo",
    "rejected": "Không được thông qua",
    "published": "Văn bản ban hành",
    "reminder": "Nhắc hạn",
    "escalation": "Báo cáo quá hạn",
    "digest": "Tổng hợp việc cần xử lý",
    "cancelled": "Dừng xử lý",
    "dead_letter": "Thư không gửi được",
    "progress_report": "Báo cáo tiến độ",
}

# Mail: the call to action of a link, and what is awaited, by the stage the link acts on.
MAIL_ACTIONS: dict[str, str] = _ByStage(
    {
        "draft": "Mở trang nộp dự thảo",
        "review": "Mở trang góp ý",
        "review.appraisal": "Mở trang gửi kết quả thẩm định",
        "approval": "Mở trang phê duyệt",
        "publication": "Mở trang ban hành",
    }
)
MAIL_DUTIES: dict[str, str] = _ByStage(
    {
        "draft": "nộp dự thảo",
        "review": "gửi ý kiến góp ý",
        "review.appraisal": "gửi báo cáo thẩm định",
        "approval": "cho ý kiến phê duyệt",
        "approval.submission": "ký Tờ trình UBND tỉnh",
        "approval.issuance": "xem xét, ban hành văn bản",
        "publication": "ban hành văn bản",
    }
)

# Mail: the calendar event (.ics) that carries a request's deadline.
MAIL_CALENDAR: dict[str, str] = {
    "summary": "{code} — Hạn {stage} (vòng {round})",
    "description": "{title}",
    "alarm": "Ngày mai là hạn {stage} nhiệm vụ {code}",
    "filename": "han-xu-ly.ics",
}

# `duyet mail …`
MAIL_CLI: dict[str, str] = {
    "help": "Thư đi: xem hàng đợi, gửi thư đến hạn, gửi lại thư lỗi.",
    "outbox.help": "Liệt kê thư trong hàng đợi (mặc định: thư chờ gửi và thư không gửi được).",
    "status.help": "Lọc theo trạng thái: pending, dead, sent hoặc all",
    "json.help": "In dạng JSON",
    "limit.help": "Số thư tối đa",
    "retry.help": "Đưa thư ID (không gửi được hoặc đang chờ) về hàng đợi để gửi ngay.",
    "send.help": "Gửi các thư đến hạn qua máy chủ SMTP (lặp lại theo chu kỳ nếu không có --once).",
    "once.help": "Gửi một lượt rồi dừng",
    "interval.help": "Số giây giữa hai lượt gửi",
    "title": "Hàng đợi thư",
    "empty": "Không có thư nào.",
    "retried": "Thư {mail_id} sẽ được gửi lại ngay ({kind} tới {to}).",
    "already-sent": "Thư {mail_id} đã được gửi lúc {sent_at}: không gửi lại.",
    "report": "Đã gửi {sent} thư; {failed} thư lỗi sẽ thử lại; {dead} thư không gửi được.",
    "unreachable": "Không gửi được qua máy chủ thư {server}: {error}",
    "stopped": "Đã dừng gửi thư.",
    "col.id": "Mã",
    "col.status": "Trạng thái",
    "col.kind": "Loại",
    "col.to": "Người nhận",
    "col.subject": "Tiêu đề",
    "col.attempts": "Số lần thử",
    "col.next": "Lần thử tới",
    "col.error": "Lỗi gần nhất",
}
MAIL_STATUSES: dict[str, str] = {
    "pending": "chờ gửi",
    "sent": "đã gửi",
    "dead": "không gửi được",
}

# What the link check found, by outcome (notifications.links.LinkOutcome), for the portal.
LINK_CHECKS: dict[str, str] = {
    "valid": "Đường dẫn hợp lệ",
    "malformed": "Đường dẫn không đầy đủ: hãy mở đúng đường dẫn trong thư",
    "unknown": "Đường dẫn không hợp lệ",
    "forged": "Đường dẫn không hợp lệ",
    "expired": "Đường dẫn đã hết hạn",
    "revoked": "Đường dẫn đã bị thu hồi",
    "used": "Đường dẫn đã được sử dụng",
}

AUDIT_ACTIONS.update({"mail.retried": "Gửi lại thư"})
AUDIT_SUMMARIES.update({"mail.retried": "Thư {mail_id}: gửi lại sau {previous_attempts} lần thử"})

# Mail: how a letter addresses its reader after "Kính gửi:".
MAIL_SALUTATIONS: dict[str, str] = {
    "head": "Ông/Bà {name}, {title}, {unit}",
    "no-head": "Thủ trưởng {unit}",
}

CLI_CYCLES: dict[str, Any] = {
    "error": "Lỗi:",
    "plan.help": "Mã kế hoạch (mặc định: kế hoạch duy nhất đã nhập)",
    "json.help": "In JSON ra stdout",
    "code.help": "Mã dòng kế hoạch, ví dụ 2.2.đ",
    "draft.help": "Tệp dự thảo đính kèm khi mở chu trình",
    "section.help": "Mở chu trình cho mọi dòng của một phần, ví dụ 2",
    "due.help": "Mở chu trình cho mọi dòng có hạn trước ngày (YYYY-MM-DD)",
    "reason.help": "Lý do rút chu trình",
    "prefect-yaml.help": "Nơi ghi prefect.yaml",
    "yaml-only.help": "Chỉ ghi prefect.yaml, không tạo deployment trên máy chủ Prefect",
    "yaml-written": "Đã ghi {count} deployment vào {path}.",
    "plan-unknown": "Không có kế hoạch {plan} trong definitions/plans.",
    "plan-ambiguous": "Có {count} kế hoạch đã nhập ({plans}): hãy chọn bằng --plan.",
    "line-ambiguous": (
        "Dòng {code} có trong {count} kế hoạch ({plans}): hãy chọn kế hoạch bằng --plan."
    ),
    "line-nowhere": "Không kế hoạch nào đã nhập có dòng {code}.",
    "plan-not-recorded": (
        "Kế hoạch {plan} chưa có trong cơ sở dữ liệu hồ sơ: chạy `duyet plan import`."
    ),
    "line-unknown": "Kế hoạch {plan} không có dòng {code}.",
    "start-what": "Cần mã dòng, hoặc --section, hoặc --due-before.",
    "deployed": "Đã tạo {count} deployment; đã ghi {path}.",
    "started": "{code}: đã mở chu trình {cycle}, lượt chạy {run}",
    "cancelled": "{code}: đã rút chu trình {cycle}",
    "nothing-open": "Dòng {code} không có chu trình nào đang mở.",
    "no-reason": "Văn phòng rút chu trình",
    "status.title": "Tình trạng các chu trình duyệt",
    "status.columns": ["Mã", "Giai đoạn", "Vòng", "Hạn giai đoạn", "Chờ ý kiến", "Prefect"],
    "status.plan": "Kế hoạch",
    "status.published": "đã ban hành",
    "status.rejected": "không được thông qua",
    "status.cancelled": "đã rút",
}

# The comment recorded for a unit deemed to agree by the silence rule.
SILENCE_CONSENT = "Quá hạn không có ý kiến: coi như đồng ý (theo quy trình)."

UP: dict[str, Any] = {
    "title": "duyet đang chạy",
    "columns": ["Thành phần", "Trạng thái", "PID", "Địa chỉ", "Nhật ký"],
    "running": "đang chạy",
    "stopped": "đã dừng",
    "prefect-ui": "giao diện Prefect",
    "urls": "Cổng thông tin: {portal}   Prefect: {prefect}",
    "inbox": "Hộp thư thử nghiệm (mọi thư gửi đi nằm ở đây): {url}",
    "smtp": "Thư được gửi qua máy chủ SMTP {host}.",
    "stop-hint": "Nhấn Ctrl-C để dừng tất cả.",
    "starting": "Đang khởi động Prefect, worker, cổng thông tin và bộ gửi thư…",
    "stopping": "Đang dừng…",
    "stopped-all": "Đã dừng mọi thành phần.",
    "restarted": "{name} đã dừng bất ngờ: đã khởi động lại (lần {count}).",
    "error": "Lỗi:",
    "port-in-use": (
        "Cổng {port} đang được dùng: dừng chương trình đang dùng nó, hoặc đặt {variable}."
    ),
    "not-loopback": (
        "Hộp thư thử nghiệm chỉ chạy khi DUYET_PUBLIC_BASE_URL trỏ về máy này (127.0.0.1): "
        "hãy đặt DUYET_SMTP_HOST để gửi thư thật."
    ),
    "failed": "Không khởi động được {detail}",
}

# The portal (issue 6): accounts, links forwarded or re-sent, delegation.
AUDIT_ACTIONS.update(
    {
        "user.added": "Tạo tài khoản",
        "user.disabled": "Khóa tài khoản",
        "user.enabled": "Mở lại tài khoản",
        "link.delegated": "Chuyển đường dẫn cho người khác",
    }
)
AUDIT_SUMMARIES.update(
    {
        "user.added": "{username} ({display_name}), vai trò {role}",
        "user.disabled": "{username}",
        "user.enabled": "{username}",
        "link.delegated": "Vòng {round}, {stage}: {recipient_unit} — {from_email} → {to_email}",
    }
)
RECORD_ERRORS.update(
    {
        "user-exists": "Tên đăng nhập {username} đã có",
        "user-unknown": "Không có tài khoản {username}",
        "role-unknown": "Vai trò {role} không hợp lệ (chọn: {roles})",
        "delegation-refused": "Không thể chuyển cho {email}: {reason}",
        "unit-answered": "{unit} đã trả lời ở giai đoạn này",
    }
)
MAIL_SALUTATIONS.update({"delegate": "Ông/Bà ({email}), {unit}"})

# Why a link was revoked or a forward refused, as stored in the audit chain and shown.
PORTAL_REASONS: dict[str, str] = {
    "delegated": "Chuyển cho {email}",
    "resent": "Văn phòng gửi lại đường dẫn mới",
    "delegate-invalid": "địa chỉ thư không hợp lệ",
    "delegate-domain": "địa chỉ phải thuộc cùng tên miền thư của đơn vị",
    "delegate-same": "đây chính là địa chỉ đã nhận đường dẫn",
}

# Portal pages: what code (not templates) puts on a page.
PORTAL: dict[str, str] = {
    "title": "duyet — theo dõi kế hoạch",
    "not-found": "Không tìm thấy trang",
    "not-found.detail": "Địa chỉ này không có trên hệ thống.",
    "link-invalid.detail": (
        "Đường dẫn không đúng hoặc không đầy đủ. Hãy mở lại đúng đường dẫn trong thư; "
        "nếu vẫn không được, xin liên hệ Văn phòng."
    ),
    "link-expired.detail": (
        "Đường dẫn này đã quá thời hạn sử dụng. Xin đề nghị Văn phòng cấp đường dẫn mới "
        "({office_email})."
    ),
    "link-revoked.detail": "Đường dẫn này không còn hiệu lực. {why}",
    "link-delegated": "Yêu cầu đã được chuyển cho {email} ngày {at}.",
    "link-replaced": "Văn phòng đã gửi một đường dẫn mới thay cho đường dẫn này.",
    "link-cancelled": "Chu trình đã được rút; không cần cho ý kiến nữa.",
    "link-used.detail": "Đường dẫn này đã được dùng; ý kiến đã ghi nhận ở dưới.",
    "stage-closed": "Giai đoạn đã kết thúc",
    "stage-closed.detail": (
        "Chu trình không còn ở giai đoạn «{stage}», vòng {round} mà đường dẫn này được gửi cho: "
        "không cần cho ý kiến nữa."
    ),
    "unit-decided": "Đơn vị đã cho ý kiến",
    "unit-decided.detail": (
        "Đơn vị của Quý vị đã cho ý kiến ở giai đoạn này (qua một đường dẫn khác)."
    ),
    "bad-request": "Yêu cầu không hợp lệ",
    "wrong-decision": "Lựa chọn «{decision}» không dùng được ở giai đoạn «{stage}».",
    "no-document": "Cần đính kèm tệp dự thảo hoặc nhập nội dung dự thảo.",
    "no-attachment": "Giai đoạn này cần đính kèm {name}.",
    "skeleton-unfilled": (
        "Dự thảo còn nội dung mẫu «[Nội dung do đơn vị chủ trì soạn thảo]»: xin soạn nội dung "
        "thay cho các đoạn trong ngoặc vuông rồi gửi lại."
    ),
    "register-title": "Sổ văn bản đã ban hành",
    "public-comment-title": "Dự thảo văn bản lấy ý kiến Nhân dân",
    "public-comment-closed": "Dự thảo này không còn trong thời gian lấy ý kiến.",
    "register-unknown": "Không có văn bản này trong sổ văn bản đã ban hành.",
    "document-too-large": "Tệp vượt giới hạn {limit} byte: không nhận yêu cầu này.",
    "invalid-form": "Biểu mẫu thiếu hoặc sai thông tin: {fields}.",
    "csrf": "Phiên làm việc không hợp lệ",
    "csrf.detail": (
        "Biểu mẫu đã cũ hoặc không được gửi từ trang này. Hãy tải lại trang rồi thử lại."
    ),
    "login-required": "Cần đăng nhập",
    "forbidden": "Không có quyền truy cập",
    "forbidden.detail": "Tài khoản của Quý vị không được dùng chức năng này.",
    "login-failed": "Tên đăng nhập hoặc mật khẩu không đúng.",
    "login-throttled": "Đăng nhập sai quá nhiều lần. Xin thử lại sau {minutes} phút.",
    "server-error": "Hệ thống gặp sự cố",
    "server-error.detail": (
        "Yêu cầu chưa thực hiện được. Xin thử lại sau ít phút hoặc báo Văn phòng."
    ),
    "prefect-down": (
        "Không kết nối được máy chủ Prefect: lịch sử trạng thái lượt chạy tạm thời không có."
    ),
    "storage-down": (
        "Cơ sở dữ liệu tạm thời không dùng được (mất kết nối, đang bận, hết chỗ lưu trữ hoặc "
        "chỉ cho đọc). Yêu cầu chưa được ghi nhận, không có gì thay đổi; xin thử lại sau ít "
        "phút (đường dẫn trong thư vẫn dùng được)."
    ),
    "not-comparable": "Không so sánh được nội dung (tệp không phải văn bản); đối chiếu mã SHA-256.",
    "no-previous": "Vòng đầu tiên: chưa có phiên bản trước để so sánh.",
    "unchanged": "Nội dung không thay đổi so với vòng trước.",
    "no-deadline": "không có hạn",
    "receipt.decision": "BN-{year}-{id:06d}",
    "receipt.version": "PB-{year}-{id:06d}",
    "decision.approve": "Đồng ý",
    "decision.request_changes": "Đề nghị chỉnh sửa",
    "decision.reject": "Không đồng ý",
    "decision.submit": "Gửi dự thảo",
    "started": "Đã mở {count} chu trình: {codes}.",
    "started-none": "Không có dòng nào để mở chu trình.",
    "skipped": "Bỏ qua (đang có chu trình mở): {codes}.",
    "start-failed": "Đã mở chu trình {codes} nhưng chưa khởi chạy được trên Prefect; "
    "bộ đối soát sẽ khởi chạy lại.",
    "resent": "Đã gửi lại đường dẫn cho {unit} (dòng {code}).",
    "cancelled": "Đã rút chu trình dòng {code}.",
    "delegated": "Đã chuyển yêu cầu cho {email}. Đường dẫn này không còn hiệu lực.",
    "dev-inbox-empty": "Hộp thư thử nghiệm trống.",
}

# Progress categories of a plan line, on the board and its charts.
PROGRESS: dict[str, str] = {
    "published": "Đã ban hành",
    "open": "Đang thực hiện",
    "overdue": "Quá hạn",
    "stopped": "Đã dừng",
    "not-started": "Chưa mở",
}

# `duyet user …`
USER_CLI: dict[str, str] = {
    "help": "Tài khoản cổng thông tin: Văn phòng, kiểm toán viên, quản trị.",
    "add.help": "Tạo tài khoản; mật khẩu được hỏi hai lần (hoặc đọc từ stdin).",
    "list.help": "Liệt kê các tài khoản.",
    "disable.help": "Khóa một tài khoản (không xóa: lịch sử vẫn giữ tên).",
    "role.help": "Vai trò: office, auditor hoặc admin",
    "name.help": "Họ tên hiển thị",
    "stdin.help": "Đọc mật khẩu từ dòng đầu của stdin (cho kịch bản)",
    "json.help": "In JSON ra stdout",
    "password": "Mật khẩu",
    "password-again": "Nhập lại mật khẩu",
    "mismatch": "Hai lần nhập mật khẩu không khớp.",
    "too-short": "Mật khẩu cần ít nhất {min} ký tự.",
    "added": "Đã tạo tài khoản {username} ({role}).",
    "disabled": "Đã khóa tài khoản {username}.",
    "none": "Chưa có tài khoản nào.",
    "columns": "Tên đăng nhập|Họ tên|Vai trò|Trạng thái|Ngày tạo",
    "active": "đang dùng",
    "locked": "đã khóa",
}

# The periodic report (publishing/report.py): the words of the Báo cáo and its annex.
REPORT: dict[str, str] = {
    "summary": "Kết quả thực hiện {plan} {period}",
    "period.year": "năm {year}",
    "period.half": "6 tháng đầu năm {year}",
    "period.other": "{period} năm {year}",
    "opening": "Thực hiện {plan}, {organisation} báo cáo kết quả thực hiện {period} như sau:",
    "results": "I. KẾT QUẢ THỰC HIỆN",
    "totals": (
        "Tính đến ngày {date}, Kế hoạch có {lines} nhiệm vụ: đã ban hành văn bản {published} "
        "nhiệm vụ; đang thực hiện {open} nhiệm vụ{stages}; chưa triển khai {not_started} nhiệm "
        "vụ{stopped}. Trong đó có {overdue} nhiệm vụ quá hạn."
    ),
    "stopped": "; đã dừng {count} nhiệm vụ",
    "by-section": "Kết quả thực hiện theo từng lĩnh vực:",
    "section-header": "Lĩnh vực|Tổng số|Đã ban hành|Đang thực hiện|Chưa triển khai|Quá hạn",
    "stopped-column": "Đã dừng",
    "total-row": "Tổng cộng",
    "chart-sections": "Biểu đồ 1. Tiến độ thực hiện theo lĩnh vực (số nhiệm vụ)",
    "chart-units": "Biểu đồ 2. Tiến độ thực hiện theo đơn vị chủ trì (số nhiệm vụ)",
    "shortcomings": "II. TỒN TẠI, HẠN CHẾ",
    "overdue": "Còn {count} nhiệm vụ quá hạn chưa hoàn thành:",
    "none-overdue": "Không có nhiệm vụ quá hạn.",
    "overdue-header": "Mã|Nhiệm vụ|Đơn vị chủ trì|Hạn|Giai đoạn",
    "stage-late": "{stage} (hạn giai đoạn {date})",
    "outlook": "III. PHƯƠNG HƯỚNG, NHIỆM VỤ THỜI GIAN TỚI",
    "coming": (
        "Tiếp tục hoàn thành các nhiệm vụ quá hạn nêu tại mục II; tập trung thực hiện các "
        "nhiệm vụ đang triển khai và các nhiệm vụ có hạn {until}:"
    ),
    "none-coming": (
        "Tiếp tục hoàn thành các nhiệm vụ quá hạn nêu tại mục II; không có nhiệm vụ nào khác "
        "đang triển khai hoặc có hạn {until}."
    ),
    "until.next": "trước ngày {date}",
    "until.year-end": "đến hết năm {year}",
    "coming-header": "Mã|Nhiệm vụ|Đơn vị chủ trì|Hạn|Tình trạng",
    "annex-note": "(Chi tiết từng nhiệm vụ tại Phụ lục kèm theo.)",
    "no-deadline": "—",
    "published": "{number} ngày {date}",
    "annex-title": "Phụ lục: {summary}",
    "annex-file": "{stem}-phu-luc.xlsx",
}

# `duyet report …`
REPORT_CLI: dict[str, str] = {
    "help": (
        "Ban hành (hoặc tìm lại) báo cáo định kỳ kết quả thực hiện kế hoạch, ký số, gửi Văn "
        "phòng và Ban Giám đốc; ghi tệp PDF và Phụ lục XLSX ra thư mục."
    ),
    "plan.help": "Mã kế hoạch, ví dụ ke-hoach-cchc-2023-svhttdl",
    "period.help": (
        "Kỳ báo cáo như kế hoạch ghi, ví dụ «Quý I» (mặc định: kỳ gần nhất từ hôm nay, "
        "hoặc kỳ cuối cùng)"
    ),
    "out.help": "Thư mục ghi tệp (mặc định: var/reports)",
    "no-plan": "Không có kế hoạch {plan} trong {path}.",
    "no-periods": "Kế hoạch {plan} không ghi kỳ báo cáo nào (mục báo cáo định kỳ).",
    "unknown-period": "Kế hoạch {plan} không có kỳ báo cáo «{period}»; các kỳ: {periods}.",
    "no-keys": (
        "Chưa có khóa ký số của {code} ({path}): chạy «duyet keys init» để tạo khóa "
        "(hoặc cài chứng thư số được cấp), rồi chạy lại lệnh này."
    ),
    "issued": "Đã ban hành báo cáo {number} ngày {date}: {summary}.",
    "found": "Báo cáo {period} đã được ban hành trước đó: {number} ngày {date}.",
    "written": "Đã ghi:\n  Báo cáo: {pdf}\n  Phụ lục: {xlsx}",
}
