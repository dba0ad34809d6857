"""Tests of the search-api example handler (examples/search-api/app.py), imported directly.

They check the BM25 ranking on small collections written here, where the expected order can be
worked out by hand. On the shipped documents they check the handler's HTTP contract: the JSON
shape, CORS headers, parameter validation and the events of both API Gateway payload formats.
"""

import importlib.util
import json
from pathlib import Path

import pytest

EXAMPLE_DIRECTORY = Path(__file__).resolve().parents[2] / "examples" / "search-api"


def load_example():
    spec = importlib.util.spec_from_file_location("search_api_app", EXAMPLE_DIRECTORY / "app.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


app = load_example()


def http_event(parameters, method="GET", path="/search"):
    """Return a payload format 2.0 event as an HTTP API sends it, reduced to the fields the
    handler reads."""
    event = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "requestContext": {"http": {"method": method, "path": path}},
    }
    if parameters is not None:
        event["queryStringParameters"] = parameters
    return event


def call(parameters, **kwargs):
    response = app.handler(http_event(parameters, **kwargs), None)
    return response, json.loads(response["body"]) if "body" in response else None


def document(identifier, text, title=None):
    return {"id": identifier, "title": title or identifier, "text": text}


# Ranking on hand-made collections.

def test_tokenize_drops_stop_words_and_folds_plurals():
    assert app.tokenize("The moons of Jupiter's giant planets") == [
        "moon", "jupiter", "giant", "planet"]


def test_tokenize_keeps_non_plural_s_words():
    assert app.tokenize("gas Uranus axis glass") == ["gas", "uranus", "axis", "glass"]


def test_tokenize_folds_ies_and_oes_plurals():
    assert app.tokenize("bodies volcanoes") == ["body", "volcano"]


def test_idf_is_higher_for_rarer_terms():
    index = app.SearchIndex([
        document("a", "ice rock"), document("b", "ice dust"), document("c", "ice gas")])
    assert index.idf("rock") > index.idf("ice")
    assert index.idf("ice") > 0


def test_search_ranks_more_occurrences_higher():
    index = app.SearchIndex([
        document("once", "comet dust gas rock"),
        document("twice", "comet comet gas rock"),
        document("none", "dust gas rock ice"),
    ])
    total, best = index.search("comet", 10)
    assert total == 2
    assert [entry["id"] for _, entry in best] == ["twice", "once"]


def test_search_ranks_shorter_document_higher_for_same_count():
    index = app.SearchIndex([
        document("long", "comet dust gas rock ice metal stone"),
        document("short", "comet dust"),
    ])
    _, best = index.search("comet", 10)
    assert [entry["id"] for _, entry in best] == ["short", "long"]


def test_search_weights_title_above_text():
    index = app.SearchIndex([
        document("mention", "titan orbit saturn", title="Rings"),
        document("about", "orbit saturn moon", title="Titan"),
    ])
    _, best = index.search("titan", 10)
    assert [entry["id"] for _, entry in best] == ["about", "mention"]


def test_search_rare_term_outweighs_common_term():
    index = app.SearchIndex([
        document("common", "planet planet"),
        document("rare", "geyser"),
        document("other1", "planet"),
        document("other2", "planet"),
    ])
    _, best = index.search("planet geyser", 10)
    assert best[0][1]["id"] == "rare"


def test_search_orders_ties_by_id_and_applies_limit():
    index = app.SearchIndex([document(name, "moon", title="Moon") for name in ("c", "a", "b")])
    total, best = index.search("moon", 2)
    assert total == 3
    assert [entry["id"] for _, entry in best] == ["a", "b"]
    assert best[0][0] == best[1][0]


def test_search_with_only_stop_words_matches_nothing():
    index = app.SearchIndex([document("a", "the moon")])
    assert index.search("the of and", 5) == (0, [])


def test_snippet_starts_near_first_match_with_ellipses():
    text = " ".join(f"word{i}" for i in range(60)) + " geyser " + " ".join(
        f"tail{i}" for i in range(60))
    result = app.snippet(text, "geysers")
    assert "geyser" in result
    assert result.startswith("…")
    assert result.endswith("…")
    assert len(result) <= app.SNIPPET_LENGTH + 2


def test_snippet_of_short_text_is_whole_text():
    assert app.snippet("Titan has lakes.", "lakes") == "Titan has lakes."


# The shipped collection.

def test_documents_are_well_formed():
    documents = json.loads((EXAMPLE_DIRECTORY / "documents.json").read_text(encoding="utf-8"))
    assert 30 <= len(documents) <= 60
    identifiers = [entry["id"] for entry in documents]
    assert len(set(identifiers)) == len(identifiers)
    for entry in documents:
        assert set(entry) == {"id", "title", "text"}
        assert entry["title"].strip()
        assert entry["text"].strip()


def test_index_is_built_at_import_not_per_request(monkeypatch):
    def fail(*args):
        raise AssertionError("the handler built an index")
    monkeypatch.setattr(app, "SearchIndex", fail)
    monkeypatch.setattr(app, "load_index", fail)
    response, _ = call({"q": "titan"})
    assert response["statusCode"] == 200


# The handler's HTTP contract.

def test_handler_returns_ranked_json_with_cors():
    response, body = call({"q": "largest moon of Saturn", "limit": "3"})
    assert response["statusCode"] == 200
    assert response["headers"]["Content-Type"] == "application/json"
    assert response["headers"]["Access-Control-Allow-Origin"] == "*"
    assert body["query"] == "largest moon of Saturn"
    assert body["results"][0]["id"] == "titan"
    assert len(body["results"]) == 3
    assert body["total"] >= 3
    for result in body["results"]:
        assert set(result) == {"id", "title", "score", "snippet"}
    scores = [result["score"] for result in body["results"]]
    assert scores == sorted(scores, reverse=True)


def test_handler_finds_document_by_rare_word():
    _, body = call({"q": "geysers"})
    assert [result["id"] for result in body["results"]] == ["triton"]
    assert body["total"] == 1
    assert "Geysers" in body["results"][0]["snippet"]


def test_handler_default_limit():
    _, body = call({"q": "planet"})
    assert len(body["results"]) == app.DEFAULT_LIMIT
    assert body["total"] > app.DEFAULT_LIMIT


def test_handler_no_match_is_empty_result():
    response, body = call({"q": "zebra"})
    assert response["statusCode"] == 200
    assert body == {"query": "zebra", "results": [], "total": 0}


def test_handler_trims_query():
    _, body = call({"q": "  titan  "})
    assert body["query"] == "titan"


@pytest.mark.parametrize("parameters, fragment", [
    (None, "Missing query parameter 'q'"),
    ({}, "Missing query parameter 'q'"),
    ({"limit": "3"}, "Missing query parameter 'q'"),
    ({"q": ""}, "'q' is empty"),
    ({"q": "   "}, "'q' is empty"),
    ({"q": "x" * 201}, "201 characters long, but the maximum is 200"),
    ({"q": "moon", "limit": "0"}, "'limit' must be an integer from 1 to 20"),
    ({"q": "moon", "limit": "21"}, "'limit' must be an integer from 1 to 20"),
    ({"q": "moon", "limit": "-1"}, "'limit' must be an integer from 1 to 20"),
    ({"q": "moon", "limit": "2.5"}, "'limit' must be an integer from 1 to 20"),
    ({"q": "moon", "limit": "ten"}, "'limit' must be an integer from 1 to 20"),
    ({"q": "moon", "limit": ""}, "'limit' must be an integer from 1 to 20"),
])
def test_handler_rejects_invalid_parameters(parameters, fragment):
    response, body = call(parameters)
    assert response["statusCode"] == 400
    assert response["headers"]["Access-Control-Allow-Origin"] == "*"
    assert fragment in body["message"]


def test_handler_accepts_limits_at_bounds():
    _, body = call({"q": "planet", "limit": "1"})
    assert len(body["results"]) == 1
    _, body = call({"q": "planet", "limit": "20"})
    assert len(body["results"]) == 20


def test_handler_accepts_query_at_max_length():
    response, _ = call({"q": "moon " + "x" * (app.MAX_QUERY_LENGTH - 5)})
    assert response["statusCode"] == 200


def test_handler_answers_preflight():
    response = app.handler(http_event(None, method="OPTIONS"), None)
    assert response["statusCode"] == 204
    assert response["headers"]["Access-Control-Allow-Origin"] == "*"
    assert "GET" in response["headers"]["Access-Control-Allow-Methods"]


def test_handler_rejects_other_methods():
    response, body = call({"q": "moon"}, method="POST")
    assert response["statusCode"] == 405
    assert response["headers"]["Allow"] == "GET, OPTIONS"
    assert "POST" in body["message"]


def test_handler_unknown_path_is_404():
    response, body = call({"q": "moon"}, path="/find")
    assert response["statusCode"] == 404
    assert "/find" in body["message"]


def test_handler_serves_search_under_named_stage():
    response, body = call({"q": "titan"}, path="/prod/search/")
    assert response["statusCode"] == 200
    assert body["results"][0]["id"] == "titan"


def test_handler_takes_payload_format_1_event():
    event = {"httpMethod": "GET", "path": "/search", "resource": "/search",
             "queryStringParameters": {"q": "europa ocean", "limit": "2"},
             "multiValueQueryStringParameters": {"q": ["europa ocean"], "limit": ["2"]},
             "requestContext": {"httpMethod": "GET", "stage": "prod"}}
    response = app.handler(event, None)
    body = json.loads(response["body"])
    assert response["statusCode"] == 200
    assert body["results"][0]["id"] == "europa"
    assert len(body["results"]) == 2


def test_handler_direct_invoke_without_path():
    response = app.handler({"queryStringParameters": {"q": "charon"}}, None)
    assert json.loads(response["body"])["results"][0]["id"] == "charon"
