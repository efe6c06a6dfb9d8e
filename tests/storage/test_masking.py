"""Personal numbers in free text are masked, whichever digits the candidate's keyboard typed."""

from __future__ import annotations

from storage.masking import mask_text


def test_half_width_numbers_are_masked() -> None:
    masked = mask_text("电话13812345678，身份证440106199001011234")
    assert masked == "电话138****5678，身份证4401**********1234"


def test_full_width_numbers_are_masked_too() -> None:
    masked = mask_text("我的电话１３８１２３４５６７８，身份证４４０１０６１９９００１０１１２３Ｘ")
    assert "12345678" not in masked and "19900101" not in masked
    assert "138****5678" in masked and "4401**********123Ｘ" in masked


def test_other_text_is_left_alone() -> None:
    assert mask_text("2017年9月30日前，考前7个工作日") == "2017年9月30日前，考前7个工作日"
