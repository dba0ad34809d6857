"""Search API: serves GET /search?q=...&limit=... by returning the documents of documents.json
that best match q, ranked by BM25.

The handler takes API Gateway events in payload format 2.0 (HTTP APIs, function URLs) and 1.0
(REST APIs). The index is built once, when the runtime imports this module, so warm invokes
only score the query.
"""

import json
import logging
import math
import re
from collections import Counter
from pathlib import Path

logger = logging.getLogger()
logger.setLevel(logging.INFO)

DOCUMENTS_PATH = Path(__file__).with_name("documents.json")

MAX_QUERY_LENGTH = 200  # characters of q, after trimming white space
DEFAULT_LIMIT = 5
MAX_LIMIT = 20
SNIPPET_LENGTH = 160  # characters of text around the first matching word

# BM25 parameters: k1 sets how quickly repeated terms stop adding score, and b how much a long
# document is penalized. These are the usual defaults (Lucene and Elasticsearch use them).
K1 = 1.2
B = 0.75
# A title word counts as this many occurrences in the document, so "Titan" ranks the Titan
# document above documents that mention Titan once in passing.
TITLE_WEIGHT = 3

STOP_WORDS = frozenset(
    "a about an and are as at be because but by can for from has have how in into is it its "
    "of on or so than that the their them then there these this to was what when where which "
    "who why with s t".split())  # "s" and "t" are what remains of "Jupiter's" and "don't"
WORD_RE = re.compile(r"[a-z0-9]+")

CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, OPTIONS",
    "Access-Control-Allow-Headers": "Content-Type",
}


def normalize(word):
    """Return the index term for one lowercase word: plurals are folded to the singular form
    ("moons" to "moon", "bodies" to "body", "volcanoes" to "volcano"), but words ending in -ss, -us or -is are left as
    they are ("gas", "Uranus", "axis")."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 5 and word.endswith("oes"):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def tokenize(text):
    """Return the index terms of text, in order, without stop words."""
    return [normalize(word) for word in WORD_RE.findall(text.lower()) if word not in STOP_WORDS]


class SearchIndex:
    """A BM25 index over documents, each a dict with "id", "title" and "text"."""

    def __init__(self, documents):
        self.documents = documents
        self.term_counts = []
        self.lengths = []
        self.document_frequency = Counter()
        for document in documents:
            counts = Counter(tokenize(document["text"]))
            for term in tokenize(document["title"]):
                counts[term] += TITLE_WEIGHT
            self.term_counts.append(counts)
            self.lengths.append(sum(counts.values()))
            self.document_frequency.update(counts.keys())
        self.average_length = sum(self.lengths) / len(documents) if documents else 0.0

    def idf(self, term):
        """Return the inverse document frequency of term, in the form Lucene uses, which stays
        positive even for a term that occurs in most documents."""
        count = len(self.documents)
        frequency = self.document_frequency[term]
        return math.log(1 + (count - frequency + 0.5) / (frequency + 0.5))

    def score(self, terms, index):
        counts = self.term_counts[index]
        length_ratio = self.lengths[index] / self.average_length
        total = 0.0
        for term in terms:
            frequency = counts.get(term, 0)
            if frequency:
                saturation = frequency * (K1 + 1) / (frequency + K1 * (1 - B + B * length_ratio))
                total += self.idf(term) * saturation
        return total

    def search(self, query, limit):
        """Return (number of matching documents, the best `limit` as (score, document) pairs).
        Ties in score are ordered by document id, so results are stable."""
        terms = set(tokenize(query))
        scored = []
        for index, document in enumerate(self.documents):
            score = self.score(terms, index)
            if score > 0:
                scored.append((score, document))
        scored.sort(key=lambda pair: (-pair[0], pair[1]["id"]))
        return len(scored), scored[:limit]


def snippet(text, query):
    """Return about SNIPPET_LENGTH characters of text that start shortly before the first word
    matching the query, with an ellipsis where text was cut."""
    terms = set(tokenize(query))
    start = 0
    for match in WORD_RE.finditer(text.lower()):
        if normalize(match.group()) in terms:
            start = match.start()
            break
    # Start a few words earlier for context, on a word boundary.
    if start > 0:
        start = max(0, start - 40)
        if start > 0:
            space = text.find(" ", start)
            start = space + 1 if 0 <= space < start + 40 else start
    end = min(len(text), start + SNIPPET_LENGTH)
    if end < len(text):
        space = text.rfind(" ", start, end)
        end = space if space > start else end
    prefix = "…" if start > 0 else ""
    suffix = "…" if end < len(text) else ""
    return prefix + text[start:end].strip() + suffix


def load_index(path=DOCUMENTS_PATH):
    with open(path, encoding="utf-8") as file:
        return SearchIndex(json.load(file))


INDEX = load_index()


class BadRequest(Exception):
    """A request error, sent to the client as 400 with the message."""


def parse_query(parameters):
    """Return (q, limit) from the query string parameters, or raise BadRequest."""
    query = parameters.get("q")
    if query is None:
        raise BadRequest("Missing query parameter 'q', for example /search?q=moons+of+jupiter.")
    query = query.strip()
    if not query:
        raise BadRequest("Query parameter 'q' is empty.")
    if len(query) > MAX_QUERY_LENGTH:
        raise BadRequest(f"Query parameter 'q' is {len(query)} characters long, but the maximum "
                         f"is {MAX_QUERY_LENGTH}.")
    raw_limit = parameters.get("limit")
    if raw_limit is None:
        return query, DEFAULT_LIMIT
    if not re.fullmatch(r"[0-9]{1,4}", raw_limit) or not 1 <= int(raw_limit) <= MAX_LIMIT:
        raise BadRequest(f"Query parameter 'limit' must be an integer from 1 to {MAX_LIMIT}, "
                         f"not {raw_limit!r}.")
    return query, int(raw_limit)


def json_response(status, body):
    return {
        "statusCode": status,
        "headers": {"Content-Type": "application/json", **CORS_HEADERS},
        "body": json.dumps(body, ensure_ascii=False),
    }


def request_method(event):
    """Return the HTTP method of a 2.0 or 1.0 event, or None for a direct invoke."""
    http = event.get("requestContext", {}).get("http", {})
    return http.get("method") or event.get("httpMethod")


def request_path(event):
    return event.get("rawPath") or event.get("path") or ""


def handler(event, context):
    if not isinstance(event, dict):
        event = {}
    method = request_method(event)
    if method == "OPTIONS":
        return {"statusCode": 204, "headers": dict(CORS_HEADERS)}

    # A quick-created HTTP API sends every path to this function. The route is the last path
    # segment, so /search also works under a named stage (/prod/search). A direct invoke has
    # no path and is treated as a search.
    path = request_path(event)
    if path and path.rstrip("/").rsplit("/", 1)[-1] != "search":
        return json_response(404, {"message": f"No route for {path}. Try GET /search?q=..."})
    if method not in (None, "GET"):
        response = json_response(405, {"message": f"Method {method} is not allowed; use GET."})
        response["headers"]["Allow"] = "GET, OPTIONS"
        return response

    try:
        query, limit = parse_query(event.get("queryStringParameters") or {})
    except BadRequest as error:
        logger.info("rejected request: %s", error)
        return json_response(400, {"message": str(error)})

    total, best = INDEX.search(query, limit)
    results = [{
        "id": document["id"],
        "title": document["title"],
        "score": round(score, 4),
        "snippet": snippet(document["text"], query),
    } for score, document in best]
    logger.info("query %r: %d matches", query, total)
    return json_response(200, {"query": query, "results": results, "total": total})
