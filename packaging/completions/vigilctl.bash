# bash completion for vigilctl

_vigilctl()
{
    local cur prev cmd sub i
    COMPREPLY=()
    cur=${COMP_WORDS[COMP_CWORD]}
    prev=${COMP_WORDS[COMP_CWORD-1]}

    # The command is the first word that is not an option; import and realserver take a
    # second word.
    for ((i = 1; i < COMP_CWORD; i++)); do
        case ${COMP_WORDS[i]} in
            -*) ;;
            *)
                if [[ -z $cmd ]]; then
                    cmd=${COMP_WORDS[i]}
                elif [[ -z $sub ]]; then
                    sub=${COMP_WORDS[i]}
                fi
                ;;
        esac
    done

    case $prev in
        --socket|--id-a|--id-b|--vip|--check)
            [[ $prev == --socket ]] && mapfile -t COMPREPLY < <(compgen -f -- "$cur")
            [[ $prev == --check ]] && mapfile -t COMPREPLY < <(compgen -W 'tcp http:/' -- "$cur")
            return
            ;;
        --mode)
            mapfile -t COMPREPLY < <(compgen -W 'dr tun' -- "$cur")
            return
            ;;
    esac

    case $cmd in
        '')
            mapfile -t COMPREPLY < <(compgen -W 'status reload dump events check-peers ipvs import realserver help
                -h --help -V -v --version' -- "$cur")
            ;;
        status|reload|events)
            mapfile -t COMPREPLY < <(compgen -W '--json --socket -h --help' -- "$cur")
            ;;
        dump)
            mapfile -t COMPREPLY < <(compgen -W '--stats --socket -h --help' -- "$cur")
            ;;
        check-peers)
            if [[ $cur == -* ]]; then
                mapfile -t COMPREPLY < <(compgen -W '--id-a --id-b -h --help' -- "$cur")
            else
                mapfile -t COMPREPLY < <(compgen -f -- "$cur")
            fi
            ;;
        ipvs)
            mapfile -t COMPREPLY < <(compgen -W '--stats --rate --thresholds --persistent-conn -c --connection
                --timeout --daemon --json -h --help' -- "$cur")
            ;;
        import)
            case $sub in
                '') mapfile -t COMPREPLY < <(compgen -W 'ldirectord ipvsadm' -- "$cur") ;;
                ipvsadm)
                    if [[ $cur == -* ]]; then
                        mapfile -t COMPREPLY < <(compgen -W '--check -h --help' -- "$cur")
                    else
                        mapfile -t COMPREPLY < <(compgen -f -- "$cur")
                    fi
                    ;;
                *) mapfile -t COMPREPLY < <(compgen -f -- "$cur") ;;
            esac
            ;;
        realserver)
            case $sub in
                '') mapfile -t COMPREPLY < <(compgen -W 'start stop status' -- "$cur") ;;
                *) mapfile -t COMPREPLY < <(compgen -W '--vip --mode -h --help' -- "$cur") ;;
            esac
            ;;
        help)
            mapfile -t COMPREPLY < <(compgen -W 'status reload dump events check-peers ipvs import realserver' -- "$cur")
            ;;
    esac
}
complete -F _vigilctl vigilctl
