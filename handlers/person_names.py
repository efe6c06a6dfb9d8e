"""A candidate's name as on the ID card, and whether what was typed can be one.

A name goes into a signed declaration, so a word typed at the name prompt (取消, 好的, 不知道) or a
phrase (我也不知道叫啥) must never become one. Chinese names almost always begin with one of a few
hundred family names: a name that does not is asked back (是/否) rather than refused, since rare
family names and names written in other ways exist; minority names written with the middle dot
(阿依古丽·买买提) and Latin names are taken as typed."""

from __future__ import annotations

import re
import unicodedata

from handlers.parsing import Confirm, Invalid, Ok

_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
_TRAILING_PUNCT = "。．.！!，,；;、~…"
_NAME_PREFIXES = (
    "我的名字叫",
    "我的名字是",
    "我的姓名是",
    "名字叫",
    "名字是",
    "姓名是",
    "我叫",
    "姓名",
    "名字",
    "我是",
)
# Minority names are written with many look-alike dots depending on the input method.
_MIDDLE_DOTS = str.maketrans(dict.fromkeys("•・‧∙⋅･", "·"))
_CHINESE_NAME = re.compile(rf"[{_CJK}]+(?:·[{_CJK}]+)*")
_LATIN_NAME = re.compile(r"[A-Za-z]+(?:[ '\-][A-Za-z]+)*")
_NAME_EXAMPLE = "例如：张三、阿依古丽·买买提、John Smith"

COMPOUND_SURNAMES = frozenset(
    "欧阳 司马 上官 诸葛 东方 皇甫 尉迟 公孙 慕容 长孙 宇文 司徒 夏侯 轩辕 令狐 钟离 闾丘 端木 南宫 西门 "
    "万俟 澹台 公冶 宗政 濮阳 淳于 单于 太叔 申屠 仲孙 赫连 拓跋 独孤 呼延 百里 东郭 第五 左丘 梁丘".split()
)
SURNAMES = frozenset(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔"
    "钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤常温康施文牛樊葛"
    "邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝"
    "路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂"
    "全佟应臧闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝官封谈匡鞠惠荆乐冀郁胥南班储原栗燕"
    "楚鄢劳谌奚皮粟冼蔺楼盘满闻位厉伊仝区郜海阚花权强帅屠豆朴盖练廉禹井祖漆巴丰支卿国狄平计索宣晋相初门云容敬来扈"
    "晁芮都普阙浦戈伏鹿薄邸雍辜羊阿乌母裘亓修邰赫杭况那宿鲜印逯隆茹诸战慕危玉银亢嵇公哈湛宾戎勾茅利於呼居揭干但尉"
    "冶斯元束檀衣信展阴昝智幸奉植衡富尧闭由么"
    # The rest of the single surnames of 百家姓, less those that mostly begin ordinary words (水 家 山 红…).
    "傅萧酆贝伏茅钮滑荀羿汲邴糜蓬郗仰钭蓟怀鄂咸籍赖胥苍莘贡逄扶堵宰郦郤璩濮寿扈郏阎宦鱼庾暨弘"
    "禄殳沃蔚夔厍訾毋乜鞠蒯竺桓贲丛韶昌凤洪弓隗宓"
)
NOT_NAMES = frozenset(
    "取消 重新开始 重来 重新 退考退费 退考 退费 弃考 返回 上一步 好的 好 好吧 嗯 嗯嗯 哦 噢 行 可以 确认 确定 "
    "是的 是 对 对的 不是 否 跳过 不知道 不清楚 忘了 忘记了 不记得 不记得了 没有 无 你好 您好 谢谢 谢了 "
    "帮助 转人工 人工 客服 算了 不办了 知道了 收到 明白 姓名 名字 本人 我 我的 你 他 她".split()
)
"""Words typed at a prompt that are answers to no question: commands, acknowledgements, doubts."""
# A phrase rather than a name: words no name is made of.
_PHRASE = re.compile(
    r"[的了吗呢吧啊呀哦嘛]|不知道|知道|不清楚|我们|你们|他们|什么|怎么|为什么|这个|那个|一个|没有|可以|可能|应该|需要|"
    r"还是|就是|已经|现在|考试|报名|退考|退费|身份证|手机|电话|号码|名字|姓名"
    # An organisation or a level typed at the name prompt.
    r"|中心|学校|学院|大学|公司|机构|单位|协会|鉴定|职业|技能|培训|[一二三四五]级|初级|中级|高级|技师"
    # Oneself instead of a name.
    r"|我|自己|本人"
)


def _nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


def _clean(text: str) -> str:
    s = _nfkc(text).translate(_MIDDLE_DOTS).strip().strip("\"'“”「」『』")
    for prefix in _NAME_PREFIXES:
        if s.startswith(prefix):
            s = s[len(prefix) :].lstrip(" :,")
            break
    s = s.strip().rstrip(_TRAILING_PUNCT).strip()
    # Many keyboards have no ·, so 阿依古丽.买买提 is typed; between Chinese characters it can only mean ·.
    return re.sub(rf"(?<=[{_CJK}])\s*\.\s*(?=[{_CJK}])", "·", s)


def has_family_name(name: str) -> bool:
    return name[:2] in COMPOUND_SURNAMES or name[0] in SURNAMES


def parse_name(text: str) -> Ok | Invalid | Confirm:
    """The candidate's name as on the ID card: Chinese (with · for minority names) or Latin letters."""
    s = _clean(text)
    if not s:
        return Invalid(f"请输入您的姓名（与身份证上一致），{_NAME_EXAMPLE}。")
    if any(c.isdigit() for c in s):
        return Invalid(f"姓名中不能包含数字，请输入您身份证上的姓名，{_NAME_EXAMPLE}。")
    if "?" in s:
        return Invalid(f"姓名中不能包含问号，请只输入您的姓名，{_NAME_EXAMPLE}。")
    joined = re.sub(r"\s+", "", s)
    if joined in NOT_NAMES or joined.lower() in NOT_NAMES:
        return Invalid(f"“{joined}”不是姓名。请输入您身份证上的姓名，{_NAME_EXAMPLE}。")
    if _CHINESE_NAME.fullmatch(joined):
        name = joined
    elif _LATIN_NAME.fullmatch(re.sub(r"\s+", " ", s)):
        name = re.sub(r"\s+", " ", s)
    else:
        return Invalid(
            f"姓名只能由汉字（少数民族姓名可用间隔号“·”）或英文字母组成，请不要输入表情或其他符号，{_NAME_EXAMPLE}。"
        )
    if len(name) < 2:
        return Invalid(f"姓名至少应有2个字，请输入完整的姓名，{_NAME_EXAMPLE}。")
    if len(name) > 20:
        return Invalid(f"姓名最多20个字，您输入了{len(name)}个字，请只输入姓名本身。")
    if "·" in name or not _CHINESE_NAME.fullmatch(name):
        return Ok(name, name)
    if _PHRASE.search(name):
        return Invalid(f"这看起来不是姓名。请只输入您身份证上的姓名，{_NAME_EXAMPLE}。")
    if len(name) > 4 or not has_family_name(name):
        return Confirm(name, name, f"请确认您的姓名是“{name}”吗？（与身份证上一致）请回复“是”或“否”。")
    return Ok(name, name)
