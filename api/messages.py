"""marshmallow's own messages in Chinese, with marshmallow's English after them, as tongban's own messages are.

webargs and marshmallow answer a bad request in English only ("Unknown field.", "Not a valid integer.").  Rather
than restate every field's and validator's messages on every schema, an answer's messages pass through
`bilingual`: a message that is one of marshmallow's templates with its values filled in ({min}, {choices}) gets
the Chinese sentence with the same values in front.  A message with Chinese in it already is tongban's and is
left as it is; one that matches no template (a library newer than this table) keeps its English.
"""

from __future__ import annotations

import re

#: marshmallow's templates (the Range ones with their comparison words filled in, as marshmallow does) → Chinese
ZH = {
    "Missing data for required field.": "必须填写",
    "Field may not be null.": "不能为空值",
    "Unknown field.": "不认识的字段",
    "Invalid input type.": "输入类型不正确",
    "Invalid type.": "类型不正确",
    "Invalid value.": "取值无效",
    "Invalid input.": "输入无效",
    "Not a valid string.": "应为文本",
    "Not a valid utf-8 string.": "不是有效的 UTF-8 文本",
    "Not a valid integer.": "应为整数",
    "Not a valid number.": "应为数字",
    "Number too large.": "数字过大",
    "Special numeric values (nan or infinity) are not permitted.": "不允许 NaN 或无穷大",
    "Not a valid boolean.": "应为 true 或 false",
    "Not a valid list.": "应为列表",
    "Not a valid tuple.": "应为元组",
    "Not a valid mapping type.": "应为对象",
    "Not a valid date.": "不是有效的日期",
    "Not a valid period of time.": "不是有效的时长",
    "Not a valid {obj_type}.": "不是有效的时间值 ({obj_type})",
    "Not a valid {awareness} {obj_type}.": "时间须带时区或不带时区，与要求不符 ({awareness} {obj_type})",
    '"{input}" cannot be formatted as a {obj_type}.': "“{input}”无法按时间格式输出 ({obj_type})",
    '"{input}" cannot be formatted as a date.': "“{input}”无法按日期格式输出",
    "{input!r} cannot be formatted as a timedelta.": "{input} 无法按时长格式输出",
    "Not a valid email address.": "不是有效的电子邮件地址",
    "Not a valid URL.": "不是有效的网址",
    "Not a valid UUID.": "不是有效的 UUID",
    "Not a valid IP address.": "不是有效的 IP 地址",
    "Not a valid IP interface.": "不是有效的 IP 接口",
    "Not a valid IPv4 address.": "不是有效的 IPv4 地址",
    "Not a valid IPv4 interface.": "不是有效的 IPv4 接口",
    "Not a valid IPv6 address.": "不是有效的 IPv6 地址",
    "Not a valid IPv6 interface.": "不是有效的 IPv6 接口",
    "Must be one of: {choices}.": "须为以下之一：{choices}",
    "One or more of the choices you made was in: {values}.": "所选项中有不允许的：{values}",
    "One or more of the choices you made was not in: {choices}.": "所选项须在以下范围内：{choices}",
    "Must be equal to {other}.": "须等于 {other}",
    "Shorter than minimum length {min}.": "长度不能少于 {min}",
    "Longer than maximum length {max}.": "长度不能超过 {max}",
    "Length must be between {min} and {max}.": "长度须在 {min} 到 {max} 之间",
    "Length must be {equal}.": "长度须为 {equal}",
    "String does not match expected pattern.": "格式不正确",
    "Must be greater than or equal to {min}.": "须大于或等于 {min}",
    "Must be greater than {min}.": "须大于 {min}",
    "Must be less than or equal to {max}.": "须小于或等于 {max}",
    "Must be less than {max}.": "须小于 {max}",
    "Must be greater than or equal to {min} and less than or equal to {max}.": "须在 {min} 到 {max} 之间（含两端）",
    "Must be greater than or equal to {min} and less than {max}.": "须大于或等于 {min} 且小于 {max}",
    "Must be greater than {min} and less than or equal to {max}.": "须大于 {min} 且小于或等于 {max}",
    "Must be greater than {min} and less than {max}.": "须大于 {min} 且小于 {max}",
}
#: marshmallow's messages are one short sentence: a longer one is not one of them, and matching two open slots
#: ("Not a valid {awareness} {obj_type}.") against a long text backtracks for seconds
_LONGEST = 500
_HAN = re.compile(r"[\u3400-\u9fff]")
_PLACEHOLDER = re.compile(r"\{(\w+)(?:![rs])?\}")


def _pattern(template: str) -> re.Pattern[str]:
    """The template as a regular expression whose named groups take its values."""
    parts, end = [], 0
    for slot in _PLACEHOLDER.finditer(template):
        parts += [re.escape(template[end:slot.start()]), f"(?P<{slot.group(1)}>.+?)"]
        end = slot.end()
    return re.compile("".join([*parts, re.escape(template[end:])]))


def _literal(template: str) -> int:
    return len(_PLACEHOLDER.sub("", template))


#: the templates with most fixed words first: "Must be greater than {min}." would also match the message of
#: "Must be greater than or equal to {min}.", and "Not a valid {obj_type}." that of "Not a valid email address."
_PATTERNS = [(_pattern(english), ZH[english]) for english in sorted(ZH, key=_literal, reverse=True)]


def bilingual(message: str) -> str:
    """`中文 (English)` for a marshmallow message; any other message unchanged."""
    if len(message) > _LONGEST or _HAN.search(message):
        return message
    for pattern, zh in _PATTERNS:
        if found := pattern.fullmatch(message):
            return f"{zh.format(**found.groupdict())} ({message})"
    return message
