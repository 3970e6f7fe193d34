"""`ketaprep serve`: a small local web form over the same engine, for nurses who never open a terminal.

One module per idea: `settings` (what a run was started with: address, token, clinic),
`security` (the guard every request passes: Host, token cookie, Origin, body size, headers),
`pages` (the Jinja templates of the form's own pages), `patient` (one patient's handout),
`daylist` (the day's list), `app` (the routes put together) and `server` (uvicorn, the
printed address, Ctrl-C).

Starlette and uvicorn are imported only here, only by `ketaprep serve`, so `ketaprep --help`
and `render` keep their start-up time.
"""
