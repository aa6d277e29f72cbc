# The self-contained virttools host the guest runs: published once, reused while no source file is newer.
# ReadyToRun because the guest has no JIT time to spare under TCG. Untrimmed by default: even partial trimming trims
# the framework's own assemblies, and PowerShell calls .NET by reflection, so a script's [IO.Directory]::GetDirectories($p)
# fails ("Cannot find an overload") once the trimmer dropped the overload nothing compiled calls. The cmdlets survive
# (VirtTools.dll is not trimmable) but scripts do not; the size saved (about 30 MB) is not worth it.
# LAB_TRIM=1 publishes with partial trimming; verify_host then catches the breakage and the lab falls back.

publish_host() { # publish_host OUTDIR
  local out=$1 stamp=$1/.published trim=${LAB_TRIM:-0} args
  if [ -e "$stamp" ] && [ "$(cat "$stamp")" = "trim=$trim" ] \
     && [ -z "$(find src VirtTools.psd1 en-US Directory.Build.props \( -name bin -o -name obj \) -prune -o -type f -newer "$stamp" -print -quit)" ]; then
    echo "host: up to date ($out)"; return 0
  fi
  args=(-c Release -r linux-x64 --self-contained -p:PublishReadyToRun=true -o "$out")
  # PowerShell's own assemblies raise trim-analysis warnings, which TreatWarningsAsErrors would make fatal
  [ "$trim" = 1 ] && args+=(-p:PublishTrimmed=true -p:TrimMode=partial -p:SuppressTrimAnalysisWarnings=true)
  rm -rf "$out"
  if ! dotnet publish src/VirtTools.Host --nologo -v q -clp:ErrorsOnly "${args[@]}" > "$LAB_BUILD/publish.log" 2>&1; then
    tail -20 "$LAB_BUILD/publish.log"; echo "host: dotnet publish failed (log: $LAB_BUILD/publish.log)"; return 1
  fi
  echo "trim=$trim" > "$stamp"
}

# The cmdlets the published host sees, with their parameter counts: reflection over every cmdlet class, which is what
# trimming could break.
cmdlet_inventory() { # cmdlet_inventory VIRTTOOLS
  "$1" -c '@(Get-Command -Module VirtTools | ForEach-Object { "{0}:{1}" -f $_.Name, $_.Parameters.Count }) -join " "'
}

# .NET calls of the kind scenarios and admins' scripts make, which trimming can remove.
DOTNET_SURFACE_PROBE='$null = [IO.Directory]::GetDirectories("/"), [IO.File]::ReadAllText("/proc/uptime"),
  [IO.FileInfo]::new("/proc/self").LinkTarget, [Diagnostics.Process]::GetCurrentProcess().Id, [regex]::Matches("a1", "\d"),
  [IO.Directory]::GetFiles("/proc", "*", [IO.SearchOption]::TopDirectoryOnly); "probe ok"'

# verify_host OUTDIR: the published host imports the module, can call .NET as scripts do, and sees the same cmdlets,
# with the same parameters, as the framework-dependent build (out/virttools).
verify_host() {
  local published reference probe
  probe=$("$1/virttools" -c "$DOTNET_SURFACE_PROBE" 2>&1)
  [ "$probe" = "probe ok" ] || { echo "host: the published virttools cannot call .NET as scripts do: $probe"; return 1; }
  published=$(cmdlet_inventory "$1/virttools") || { echo "host: the published virttools cannot run: $published"; return 1; }
  echo "host: published virttools exports: ${published:-(no cmdlets yet)}"
  if [ -x out/virttools ]; then
    reference=$(cmdlet_inventory out/virttools) || { echo "host: out/virttools cannot run"; return 1; }
    if [ "$published" != "$reference" ]; then
      echo "host: the published host differs from out/virttools (trimming removed something?)"
      echo "  published: $published"; echo "  reference: $reference"; return 1
    fi
  fi
}

# check_scenarios VIRTTOOLS: every scenario, and the peer guest's script, parses (a syntax error is found here, not
# after a two-minute boot)
check_scenarios() {
  local script errors status=0
  for script in "$LAB_DIR"/scenarios/*.ps1 "$LAB_DIR"/guest/*.ps1; do
    errors=$(LAB_SCRIPT=$script "$1" -c '$errors = $null; $null = [System.Management.Automation.Language.Parser]::ParseFile($env:LAB_SCRIPT, [ref]$null, [ref]$errors); $errors | ForEach-Object { "line $($_.Extent.StartLineNumber): $($_.Message)" }' 2>&1)
    [ -z "$errors" ] || { echo "scenario $(basename "$script") does not parse: $errors"; status=1; }
  done
  return $status
}
