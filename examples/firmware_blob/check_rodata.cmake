# ctest firmware_blob_in_rodata: the embedded blob is a read-only data symbol (nm type R/r),
# i.e. it stays in flash on a firmware target instead of being copied to RAM at start-up.
#   cmake -DNM=<nm> -DPROGRAM=<file> -DSYMBOL=<name> -P check_rodata.cmake
execute_process(COMMAND "${NM}" "${PROGRAM}" OUTPUT_VARIABLE symbols RESULT_VARIABLE result)
if(NOT result EQUAL 0)
    message(FATAL_ERROR "${NM} ${PROGRAM} failed (${result})")
endif()
if(NOT symbols MATCHES "[0-9a-fA-F]+ [Rr] ${SYMBOL}\n")
    string(REGEX MATCH "[^\n]* ${SYMBOL}\n" line "${symbols}")
    message(FATAL_ERROR "${SYMBOL} is not a read-only data symbol: '${line}'")
endif()
message(STATUS "${SYMBOL} is in read-only data")
