from emulator.core.journal import Journal, mask_key


def test_journal_keeps_only_the_newest_entries() -> None:
    journal = Journal(max_entries=3)
    for index in range(5):
        journal.open(float(index), "http", "POST", f"/p{index}")
    assert [entry.path for entry in journal] == ["/p2", "/p3", "/p4"]
    assert [entry.seq for entry in journal] == [3, 4, 5]


def test_journal_filters_by_surface_route_status_and_validity() -> None:
    journal = Journal()
    good = journal.open(0, "http", "POST", "/runware/v1")
    good.surface, good.route, good.status = "runware", "POST /v1", 200
    bad = journal.open(1, "http", "POST", "/runware/v1")
    bad.surface, bad.route, bad.status = "runware", "POST /v1", 400
    bad.violations.append({"path": "/0/positivePrompt", "message": "too short", "keyword": "minLength"})
    other = journal.open(2, "http", "GET", "/files/x.jpg")
    other.surface, other.status = "files", 200
    assert journal.entries(surface="runware") == [good, bad]
    assert journal.entries(status=400) == [bad]
    assert journal.entries(valid=False) == [bad]
    assert journal.entries(route="POST /v1", valid=True) == [good]
    assert bad.as_dict()["valid"] is False


def test_api_keys_are_masked() -> None:
    assert mask_key("sk-live-123456") == "sk-l…"
    assert mask_key("abc") == "…"
    assert mask_key(None) is None


def test_a_flood_of_violations_is_capped_and_noted_without_blaming_the_client_twice() -> None:
    from emulator.core.journal import MAX_VIOLATIONS

    entry = Journal().open(0.0, "http", "POST", "/x")
    entry.add_violations({"path": f"/{index}", "message": "bad"} for index in range(MAX_VIOLATIONS + 10))
    assert len(entry.violations) == MAX_VIOLATIONS
    assert entry.warnings == [] and entry.notes == [
        f"more than {MAX_VIOLATIONS} violations; the rest were not recorded"
    ]
    assert entry.as_dict()["notes"] == entry.notes


def test_a_huge_request_leaves_a_small_entry() -> None:
    """Reliability audit: 25 requests with 10 MB prompts held 482 MB in the journal through their messages."""
    journal = Journal(10)
    entry = journal.open(0.0, "http", "POST", "/x")
    entry.add_violations([{"path": "/prompt", "message": "x" * 10_000_000, "keyword": "maxLength"}])
    entry.warnings.append("w" * 10_000_000)
    entry.notes.extend("n" * 1000 for _ in range(10_000))
    assert len(entry.violations[0]["message"]) <= 500 and "10,000,000 characters" in entry.violations[0]["message"]
    assert len(entry.warnings[0]) <= 500
    assert len(entry.notes) == 50 and all(len(note) <= 500 for note in entry.notes)
    assert len(str(entry.as_dict())) < 50_000
