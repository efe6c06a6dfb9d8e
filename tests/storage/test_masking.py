"""Personal numbers in free text are masked, whichever digits the candidate's keyboard typed."""

from __future__ import annotations

from storage.masking import mask_text


def test_half_width_numbers_are_masked() -> None:
    masked = mask_text("电话13812345678，身份证440106199001011234")
    assert masked == "电话138****5678，身份证4401**********1234"


def test_full_width_numbers_are_masked_too() -> None:
    masked = mask_text("我的电话１３８１２３４５６７８，身份证４４０１０６１９９００１０１１２３Ｘ")
    assert "12345678" not in masked and "19900101" not in masked
    assert "138****5678" in masked and "4401**********123X" in masked


def test_other_text_is_left_alone() -> None:
    assert mask_text("2017年9月30日前，考前7个工作日") == "2017年9月30日前，考前7个工作日"


def test_numbers_typed_with_separators_are_masked() -> None:
    """The formats the phone prompt itself suggests, and the ones candidates use."""
    for typed, shown in [
        ("138 1234 5678", "138****5678"),
        ("138-1234-5678", "138****5678"),
        ("138.1234.5678", "138****5678"),
        ("+86 139-0000-1111", "139****1111"),
        ("0086 13900001111", "139****1111"),
        ("440106 19900101 1235", "4401**********1235"),
        ("4401 0619 9001 0112 35", "4401**********1235"),
    ]:
        masked = mask_text(f"我的号码是{typed}，谢谢")
        assert shown in masked and masked.endswith("，谢谢"), (typed, masked)


def test_an_id_and_a_phone_typed_together_are_two_numbers() -> None:
    masked = mask_text("张三 440106199001011235 13812345678")
    assert masked == "张三 4401**********1235 138****5678"


def test_other_long_numbers_are_masked_too() -> None:
    """A run of 16 or more digits means nothing a transcript needs (a bank card, two numbers glued)."""
    assert "6222021234567890123" not in mask_text("卡号6222021234567890123")
