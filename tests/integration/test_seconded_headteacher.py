"""A seconded headteacher is also a liaison officer; their school's pages still show only
their school's bids."""


def test_seconded_headteacher_dashboard_lists_only_their_schools_bids(client, auth, make):
    school = make.school()
    seconded = make.liaison(school=school)
    own = make.application("submitted", partner=school)
    other = make.application("submitted")
    auth.login(seconded)
    page = client.get("/headteacher/").get_data(as_text=True)
    bids = page.split("<table", 1)[1]  # the messages panel above may name bids they review
    assert own.reference in bids
    assert other.reference not in bids


def test_seconded_headteacher_gets_404_for_other_schools_bids_on_school_pages(client, auth, make):
    seconded = make.liaison(school=make.school())
    other = make.application("submitted")
    auth.login(seconded)
    assert client.get(f"/headteacher/bids/{other.reference}/view").status_code == 404
    assert client.get(f"/liaison/bids/{other.reference}").status_code == 200
