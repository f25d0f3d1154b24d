"""Read queries, one module per area of the site, each returning what a page (or an API
list) shows: rows with their related rows loaded in a fixed number of queries, and page
objects (a :class:`flask_sqlalchemy.pagination.Pagination`, or a dataclass naming what the
page needs). Nothing here writes or decides who may act; access is checked by
:mod:`fundflow.services.access` and actions come from :mod:`fundflow.services.lifecycle`.

- :mod:`.funds`: the funds every filter and fund list offers;
- :mod:`.headteacher`, :mod:`.liaison`, :mod:`.finance`, :mod:`.auditor`, :mod:`.admin`: the
  pages of each role (the liaison officer's work queue is assembled in :mod:`.liaison`);
- :mod:`.api`: the JSON API's lists.
"""
