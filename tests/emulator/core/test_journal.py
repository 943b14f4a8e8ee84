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
