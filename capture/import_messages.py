"""How people read what an import says: refusals of a file or mapping, and each row's
problems in the error report and the preview, in the active language (the API's is English)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from capture.import_mapping import MappingProblem
from capture.import_reader import MAX_IMPORT_BYTES
from leads.fields import FIELDS_BY_NAME
from leads.reasons import reason_label


def _megabytes(size: int) -> str:
    return f"{size / 1024 / 1024:.0f} MB" if size >= 1024 * 1024 else f"{size / 1024:.1f} KB"


def refusal_message(code: str, params: dict[str, Any]) -> str:
    """Why a file cannot be imported as it is, and what to do about it."""
    if code == "empty":
        return _("文件是空的：请上传含表头和数据行的 CSV 或 XLSX 文件。")
    if code == "too_big":
        return _("文件大小 %(size)s 超过了上限 %(limit)s：请把文件拆分后分批导入。") % {
            "size": _megabytes(int(params.get("size", 0))), "limit": _megabytes(int(params.get("limit", MAX_IMPORT_BYTES))),
        }
    if code == "not_spreadsheet":
        return _("这不是表格文件：请上传 CSV（UTF-8 或 GBK 编码）或 Excel XLSX 文件。")
    if code == "unknown_sheet":
        return _("文件中没有名为“%(sheet)s”的工作表。可选的工作表：%(sheets)s。") % params
    if code == "choose_sheet":
        return _("这个 XLSX 文件有多个工作表，请选择要导入的一个：%(sheets)s。") % params
    if code == "no_header":
        return _("第一行看起来是数据而不是表头：请在文件第一行加上列名（如 姓名、手机、公司名称），或为每一列指定字段。")
    if code == "nothing_mapped":
        return _("没有一列对应到线索字段（文件的列：%(headers)s）：请为至少一列选择字段。") % params
    if code == "bad_csv":
        return _("第 %(line)s 行无法按 CSV 读取（%(error)s）：请检查引号是否成对、单元格是否过长。") % params
    if code == "mapping":
        return _("列的对应关系有误，请按各列的提示修改。")
    return code


def mapping_problem_message(problem: MappingProblem) -> str:
    code, params = problem
    if code == "unknown_column":
        return _("文件中没有“%(column)s”这一列。文件的列：%(columns)s。") % params
    if code == "target_not_text":
        return _("字段名必须是文本（空字符串表示不导入这一列）。")
    if code == "unknown_field":
        return _("没有“%(field)s”这个线索字段。可用的字段：%(fields)s，或 custom.<键名>。") % params
    if code == "field_twice":
        return _("“%(column)s”列已经对应到字段 %(field)s。") % params
    return code


def field_label(name: str) -> str:
    if name.startswith("custom."):
        return _("自定义字段 %(key)s") % {"key": name[len("custom."):]}
    if (field := FIELDS_BY_NAME.get(name)) is not None:
        return str(field.label)
    if name == "non_field_errors":
        return _("整行")
    return name


def problem_message(problem: dict[str, Any], *, headers: list[str] | None = None) -> str:
    """One problem of a row: a quarantine reason (worded as the quarantine page words it), a
    field's validation messages, or a cell that could not be read."""
    if "field" in problem:
        return f"{field_label(str(problem['field']))}: {' '.join(str(m) for m in problem.get('messages', []))}"
    code = str(problem.get("code", ""))
    if code == "formula_without_value":
        column = int(problem.get("column", 0))
        name = headers[column] if headers and column < len(headers) and headers[column] else _column_letters(column)
        return _("“%(column)s”列的公式 %(formula)s 没有保存计算结果：请在 Excel 中打开文件、保存后再导入。") % {
            "column": name, "formula": problem.get("formula", ""),
        }
    return reason_label(code)


def _column_letters(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


def outcome_label(outcome: str) -> str:
    labels = {
        "created": _("新建"), "merged": _("归集到已有线索"), "updated": _("更新已有线索"),
        "quarantined": _("已隔离"), "invalid": _("无效"),
    }
    return labels.get(outcome, outcome)
