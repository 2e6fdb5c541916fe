# Warning flags for sieve's own targets (tests, examples, benchmarks, firmware check).
# Applied per target, never globally, so a project that adds sieve with add_subdirectory
# keeps its own flags.
#
#   sieve_target_warnings(<target> [WERROR])
#
# -Werror comes from SIEVE_WARNINGS_AS_ERRORS (CI turns it on) or from WERROR (targets
# whose whole point is to prove the headers are warning-clean).
include_guard(GLOBAL)

function(sieve_target_warnings target)
    cmake_parse_arguments(PARSE_ARGV 1 arg "WERROR" "" "")
    if(MSVC)
        set(flags /W4)
        set(werror /WX)
    else()
        set(flags -Wall -Wextra -Wpedantic)
        set(werror -Werror)
    endif()
    if(SIEVE_WARNINGS_AS_ERRORS OR arg_WERROR)
        list(APPEND flags ${werror})
    endif()
    target_compile_options(${target} PRIVATE ${flags})
endfunction()
