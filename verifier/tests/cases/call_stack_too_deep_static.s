# Nine nested functions, the deepest call behind a branch the exploration never takes: the
# static walk of check_max_stack_depth still counts the frames.
# expect: reject "the call stack of 8 frames is too deep !" at 17 (E2BIG)
call pc+2
r0 = 0
exit
call pc+1
exit
call pc+1
exit
call pc+1
exit
call pc+1
exit
call pc+1
exit
call pc+1
exit
r1 = 0
if r1 == 0 goto +1
call pc+1
exit
r0 = 0
exit
