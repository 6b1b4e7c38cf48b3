"""The text of the scenes, split between the benchmark and a detector's training data.

Sources are those of the rendered pages (:mod:`ocr_eval.rendered.text`: Debian ``fortunes-zh``,
CPython's documentation topics, ``wamerican``), mapped onto the recogniser's charset, cut into
the short pieces photos carry: Chinese clauses (the runs between punctuation marks), Han-only
names, English phrases (the runs of a sentence between commas) and words. Generated fields
(prices, dates, codes, amounts) and the small vocabularies of field labels in :data:`LABELS`
(``检票``, ``净含量``, ``Exit``) fill in what a ticket, a receipt or a label prints.

**Splits.** Every line a scene prints is drawn until :func:`split_of` of its text is the scene's
split: the two splits never share a line's text (compared normalised, as the scorer compares).

Example:
    >>> split_of("检票口") in ("bench", "train")
    True
    >>> import random
    >>> t = SceneText("bench", random.Random(0))
    >>> line = t.price()
    >>> line.startswith("￥"), split_of(line)
    (True, 'bench')
"""

from __future__ import annotations

import functools
import hashlib
import random
import re
from collections.abc import Callable, Sequence

from ocr_eval.metrics import normalize
from ocr_eval.rendered.text import charset_ok, load_corpus

SPLITS = ("bench", "train")
Check = Callable[[str], bool]

_HAN_RUN = re.compile(r"[\u4e00-\u9fff]+")
_ZH_CLAUSE = re.compile(r"[^，。；：！？、“”‘’（）《》「」『』…—·\s]+")
_EN_PHRASE = re.compile(r"[^,.;:()?!“”]+")

# Field labels and fixed phrases that tickets, receipts, labels and signs print. Each list has
# entries in both splits (tests/unit/evaluation/test_scenes.py checks it).
LABELS: dict[str, tuple[str, ...]] = {
    "seat_class": ("二等座", "一等座", "商务座", "硬座", "硬卧", "软卧", "无座", "特等座", "动卧", "高级软卧"),
    "ticket_note": ("限乘当日当次车", "仅供报销使用", "3日内有效", "中途下车失效", "凭票乘车", "请妥善保管车票",
                    "始发改签", "退票费", "学生票", "儿童票", "网售", "补票"),
    "ticket_bottom": ("买票请到12306 发货请到95306", "中国铁路祝您旅途愉快", "请按检票提示乘车", "报销凭证 遗失不补",
                      "请提前检票进站", "车票当日当次有效"),
    "gate": ("检票", "检票口", "候车", "候车室", "入口", "站台"),
    "receipt_head": ("品名", "商品", "名称", "品项", "货品"),
    "qty_head": ("数量", "数", "件数", "QTY"),
    "amount_head": ("金额", "小计", "单价", "价格"),
    "receipt_total": ("合计", "总计", "应收", "实收", "找零", "优惠", "折扣", "支付宝", "微信支付", "现金", "会员价"),
    "receipt_thanks": ("谢谢惠顾", "欢迎再次光临", "请保留小票", "凭小票退换", "多谢光临", "祝您购物愉快",
                       "Thank you", "Welcome again", "Please keep your receipt", "Have a nice day"),
    "shop_suffix": ("超市", "便利店", "餐厅", "商店", "百货", "药房", "书店", "茶馆", "面馆", "水果店", "烘焙"),
    "care_field": ("面料", "里料", "成分", "填充物", "等级", "号型", "洗涤方式", "产地", "货号", "颜色", "检验"),
    "fibre": ("棉", "聚酯纤维", "粘纤", "锦纶", "氨纶", "羊毛", "桑蚕丝", "亚麻", "腈纶", "莫代尔"),
    "care_en": ("Machine wash cold", "Do not bleach", "Tumble dry low", "Iron low heat", "Hand wash only",
                "Dry clean only", "Do not tumble dry", "Wash with like colours", "Line dry in shade",
                "Wash inside out", "Cool iron if needed", "Do not wring"),
    "fibre_en": ("Cotton", "Polyester", "Viscose", "Nylon", "Elastane", "Wool", "Silk", "Linen", "Acrylic",
                 "Modal"),
    "made_in": ("Made in China", "MADE IN CHINA", "Made in PRC", "Imported", "Origin: China", "Designed in China"),
    "product_field": ("品名", "品牌", "产品编号", "净含量", "适用人群", "主要成分", "主要功能", "保质期", "生产日期",
                      "贮存条件", "使用方法", "规格", "产地", "执行标准"),
    "product_head": ("产品信息/参数", "产品参数", "商品详情", "产品说明", "规格参数", "详细信息", "产品介绍"),
    "road_suffix": ("路", "街", "大道", "巷", "大街", "中路", "东路", "西路", "南路", "北路"),
    "road_en": ("Rd.", "St.", "Ave.", "Road", "Street", "Lane", "Blvd."),
    "direction": ("东", "西", "南", "北", "E", "W", "S", "N", "东门", "西门", "南门", "北门"),
    "facility": ("出口", "入口", "卫生间", "售票处", "换乘", "电梯", "楼梯", "问讯处", "停车场", "服务台", "候车厅",
                 "安全出口"),
    "facility_en": ("Exit", "Entrance", "Toilet", "Tickets", "Transfer", "Lift", "Stairs", "Information",
                    "Parking", "Service", "Waiting Hall", "Elevator"),
    "promo_label": ("日常价", "券后价", "到手价", "原价", "秒杀价", "活动价", "会员价", "限时价", "特价", "惊爆价"),
    "price_unit": ("元/袋", "元/瓶", "元/盒", "元/斤", "元/个", "元/件", "元/包", "元/箱", "元/支", "元"),
    "notice_head": ("温馨提示", "注意事项", "使用须知", "友情提醒", "服务指南", "安全提示", "重要通知", "办事流程",
                    "Notice", "Important", "Please note", "Attention"),
    "tag_head": ("特价", "促销", "新品", "热卖", "会员专享", "限时抢购", "本周推荐", "SALE", "NEW", "HOT"),
}


def split_of(text: str) -> str:
    """The split a line's text belongs to: ``bench`` or ``train``, by a hash of its normalised text.

    Example:
        >>> split_of("卫生间（Toilet）") == split_of("卫生间(Toilet)")
        True
    """
    digest = hashlib.blake2b(normalize(text).encode("utf-8"), digest_size=8).digest()
    return SPLITS[digest[0] & 1]


@functools.cache
def _pieces() -> dict[str, tuple[str, ...]]:
    """The corpus cut into photo-sized pieces, once per process."""
    corpus = load_corpus()
    zh_clauses: set[str] = set()
    for text in (*corpus.paragraphs["zh"], *corpus.headings["zh"]):
        zh_clauses.update(c for c in _ZH_CLAUSE.findall(text) if 2 <= len(c) <= 16 and _HAN_RUN.fullmatch(c))
    en_phrases: set[str] = set()
    for text in (*corpus.paragraphs["en"], *corpus.headings["en"]):
        for p in _EN_PHRASE.findall(text):
            words = p.split()
            if 2 <= len(words) <= 9 and all(w.isascii() for w in words):
                en_phrases.add(" ".join(words))
    return {
        "zh": tuple(sorted(c for c in zh_clauses if charset_ok(c))),
        "en": tuple(sorted(p for p in en_phrases if charset_ok(p))),
        "en_head": tuple(h for h in corpus.headings["en"] if charset_ok(h)),
        "words": corpus.words,
    }


@functools.cache
def _by_size(kind: str) -> dict[int, tuple[str, ...]]:
    """The pieces of ``kind`` by their number of characters (``en``: of words)."""
    out: dict[int, list[str]] = {}
    for p in _pieces()[kind]:
        out.setdefault(len(p.split()) if kind == "en" else len(p), []).append(p)
    return {n: tuple(v) for n, v in out.items()}


@functools.cache
def _pool(kind: str, lo: int, hi: int) -> tuple[str, ...]:
    """The pieces of ``kind`` with ``lo``-``hi`` characters (``en``: words); all of them if none."""
    sizes = _by_size(kind)
    return tuple(p for n in range(lo, hi + 1) for p in sizes.get(n, ())) or _pieces()[kind]


class SceneText:
    """The text supply of one scene: every string it returns is in ``split`` and in the charset.

    Args:
        split: ``bench`` or ``train``.
        rng: The scene's random stream.
    """

    def __init__(self, split: str, rng: random.Random):
        if split not in SPLITS:
            raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
        self.split, self.rng = split, rng
        self.pieces = _pieces()

    def accepts(self, text: str, ok: Check | None = None) -> bool:
        """Whether a line may print ``text``: in the split, in the charset, and ``ok`` (a face's coverage)."""
        return bool(text) and charset_ok(text) and split_of(text) == self.split and (ok is None or ok(text))

    def draw(self, make: Callable[[random.Random], str], ok: Check | None = None, tries: int = 2000) -> str:
        """The first ``make(rng)`` that is in the split, the charset and ``ok`` (a face's coverage)."""
        for _ in range(tries):
            text = " ".join(make(self.rng).split())
            if self.accepts(text, ok):
                return text
        raise RuntimeError(f"no {self.split} text after {tries} draws")

    def maybe(self, make: Callable[[random.Random], str], ok: Check | None = None, tries: int = 200) -> str | None:
        """:meth:`draw` for a field of few variants: ``None`` when none of ``tries`` draws is in the split."""
        try:
            return self.draw(make, ok, tries)
        except RuntimeError:
            return None

    def pick(self, name: str, ok: Check | None = None) -> str:
        """One entry of :data:`LABELS` ``[name]`` in the split."""
        return self.draw(lambda r: r.choice(LABELS[name]), ok)

    def choice(self, options: Sequence[str], ok: Check | None = None) -> str:
        """One of ``options`` in the split (the caller's own vocabulary)."""
        return self.draw(lambda r: r.choice(list(options)), ok)

    def number(self, make: Callable[[random.Random], str], ok: Check | None = None) -> str:
        """A generated field (a code, an amount, a phone number): :meth:`draw` under another name."""
        return self.draw(make, ok)

    # -- makers: one random piece, in any split (for the parts of a line that :meth:`draw` checks) ---
    def make_zh(self, r: random.Random, lo: int = 2, hi: int = 12) -> str:
        """A Chinese clause of ``lo``-``hi`` characters (Han only, no punctuation)."""
        pool = _pool("zh", lo, hi)
        return r.choice(pool)

    def make_name(self, r: random.Random, lo: int = 2, hi: int = 3, suffix: str = "") -> str:
        """A name: ``lo``-``hi`` Han characters cut from a clause, then ``suffix`` (``站``, ``路``)."""
        clause, n = r.choice(_pool("zh", hi, 16)), r.randint(lo, hi)
        k = r.randrange(len(clause) - n + 1)
        return clause[k:k + n] + suffix

    def make_en(self, r: random.Random, lo: int = 2, hi: int = 6, title: bool = False) -> str:
        """An English phrase of ``lo``-``hi`` words (a run of a sentence between commas)."""
        text = r.choice(_pool("en", lo, hi))
        return text.title() if title else text[0].upper() + text[1:]

    def make_word(self, r: random.Random, cap: bool = True) -> str:
        """An English word."""
        word = r.choice(self.pieces["words"])
        return word.capitalize() if cap else word

    def make_price(self, r: random.Random, lo: float = 1.0, hi: float = 999.0, prefix: str = "￥",
                   suffix: str = "") -> str:
        """A price such as ``￥12.80``."""
        value = r.uniform(lo, hi)
        digits = r.choice((1, 2, 2, 0)) if value < 100 else r.choice((0, 1, 2))
        return f"{prefix}{value:.{digits}f}{suffix}"

    @staticmethod
    def make_date(r: random.Random, style: str = "zh") -> str:
        """A date: ``2024年03月15日`` (``zh``), ``2024-03-15`` (``iso``) or ``2024.03.15`` (``dot``)."""
        y, m, d = r.randint(2015, 2025), r.randint(1, 12), r.randint(1, 28)
        return {"zh": f"{y}年{m:02d}月{d:02d}日", "iso": f"{y}-{m:02d}-{d:02d}", "dot": f"{y}.{m:02d}.{d:02d}"}[style]

    # -- the same, drawn in the split --------------------------------------------------------------
    def zh(self, lo: int = 2, hi: int = 12, ok: Check | None = None) -> str:
        """:meth:`make_zh` in the split."""
        return self.draw(lambda r: self.make_zh(r, lo, hi), ok)

    def name(self, lo: int = 2, hi: int = 3, suffix: str = "", ok: Check | None = None) -> str:
        """:meth:`make_name` in the split."""
        return self.draw(lambda r: self.make_name(r, lo, hi, suffix), ok)

    def en(self, lo: int = 2, hi: int = 6, ok: Check | None = None, title: bool = False) -> str:
        """:meth:`make_en` in the split."""
        return self.draw(lambda r: self.make_en(r, lo, hi, title), ok)

    def word(self, cap: bool = True, ok: Check | None = None) -> str:
        """:meth:`make_word` in the split."""
        return self.draw(lambda r: self.make_word(r, cap), ok)

    def words(self, lo: int = 1, hi: int = 3, ok: Check | None = None) -> str:
        """A few capitalised English words (a brand, a product)."""
        return self.draw(lambda r: " ".join(self.make_word(r) for _ in range(r.randint(lo, hi))), ok)

    def en_heading(self, max_chars: int = 40, ok: Check | None = None) -> str:
        """A section title of the English corpus."""
        pool = [h for h in self.pieces["en_head"] if len(h) <= max_chars] or ["Overview"]
        return self.draw(lambda r: r.choice(pool), ok)

    def price(self, lo: float = 1.0, hi: float = 999.0, prefix: str = "￥", suffix: str = "",
              ok: Check | None = None) -> str:
        """:meth:`make_price` in the split."""
        return self.draw(lambda r: self.make_price(r, lo, hi, prefix, suffix), ok)

    def date(self, style: str = "zh", ok: Check | None = None) -> str:
        """:meth:`make_date` in the split."""
        return self.draw(lambda r: self.make_date(r, style), ok)
