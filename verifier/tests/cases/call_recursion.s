# main calls f, f calls main: frames pile up to the limit of 8.
# expect: reject "the call stack of 9 frames is too deep" at 3 (E2BIG)
call pc+2
r0 = 0
exit
call pc-4
exit
