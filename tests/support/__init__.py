"""Helpers shared by the test modules; no test module imports another.

- ``paths``: where the repository, the suite's data and the screenshots are.
- ``settings``: cheap password hashing and small election keys, set as configuration.
- ``accounts``: the suite's password, logging in over HTTP, residents.
- ``elections``: election configurations, opening one, a whole election run, the log.
- ``proposals``: logged-in actors, programs and proposals over HTTP.
- ``pages``: asking for HTML, and the CSRF token of a form.
- ``images``: the bytes of small PNG, JPEG and WebP images.
- ``server``: a real ``veche serve`` process, ``veche`` commands, clients of a server.
- ``browser``: how Debian's Chromium is started.
- ``hpke_model``: a test-only model of RFC 9180 HPKE, to check seals against.

The hypothesis strategies stay in ``tests.strategies``, one module per domain.
"""
