-- GET / of bench/hello.py: the bare Starlette ceiling (wrk's static request to the URL's path).
dofile(os.getenv("BENCH_WRK_DIR") .. "/common.lua")
