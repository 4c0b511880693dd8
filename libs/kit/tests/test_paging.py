"""Page sizes and opaque page tokens, as every listing uses them."""

from __future__ import annotations

import pytest

from hangar.kit.errors import InvalidArgument
from hangar.kit.paging import MAX_PAGE_SIZE, decode_page_token, encode_page_token, page_limit


def test_a_zero_page_size_means_the_default_and_a_huge_one_the_maximum() -> None:
    assert page_limit(0) == 100
    assert page_limit(7) == 7
    assert page_limit(10**9) == MAX_PAGE_SIZE


def test_a_negative_page_size_is_refused() -> None:
    with pytest.raises(InvalidArgument) as refused:
        page_limit(-1)
    assert refused.value.code == "PAGE_SIZE_INVALID"


def test_a_token_gives_back_its_cursor_and_an_empty_token_is_the_first_page() -> None:
    token = encode_page_token({"after": "bob@example.com", "n": 3}, query="org=demo")
    assert decode_page_token(token, query="org=demo") == {"after": "bob@example.com", "n": 3}
    assert decode_page_token("", query="org=demo") is None


@pytest.mark.parametrize("token", ["!!", "bm90IGpzb24", "é", encode_page_token({"a": 1}, query="org=other")])
def test_a_token_that_is_not_this_listings_is_refused(token: str) -> None:
    with pytest.raises(InvalidArgument) as refused:
        decode_page_token(token, query="org=demo")
    assert refused.value.code == "PAGE_TOKEN_INVALID"
