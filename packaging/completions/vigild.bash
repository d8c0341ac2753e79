# bash completion for vigild (keepalived's flags; vigild --help lists them)

_vigild()
{
    local cur prev
    COMPREPLY=()
    cur=${COMP_WORDS[COMP_CWORD]}
    prev=${COMP_WORDS[COMP_CWORD-1]}

    case $prev in
        -f|--use-file|-p|--pid|-r|--vrrp_pid|-c|--checkers_pid|--control-socket)
            mapfile -t COMPREPLY < <(compgen -f -- "$cur")
            return
            ;;
        -S|--log-facility)
            mapfile -t COMPREPLY < <(compgen -W '0 1 2 3 4 5 6 7' -- "$cur")
            return
            ;;
        -i|--config-id|--metrics)
            return
            ;;
    esac

    mapfile -t COMPREPLY < <(compgen -W '-f --use-file -t --config-test --json --strict -P --vrrp -C --check
        -I --dont-release-ipvs -n --dont-fork -l --log-console -D --log-detail -S --log-facility
        -p --pid -r --vrrp_pid -c --checkers_pid --control-socket --metrics -i --config-id
        -v --version -h --help' -- "$cur")
}
complete -F _vigild vigild
