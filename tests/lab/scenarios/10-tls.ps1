# USB/IP over mutual TLS, loopback in one guest: `virttools usbipd` with a certificate, a client CA, --require-tls and a
# grant for one client identity; the stick imported by Connect-UsbIpDevice -UseTls reads back the same 16 MiB as on
# the server side, through the relays on both sides (the kernel holds one end of a socket pair on each). Refused, with
# nothing bound: stock `usbip attach` (plain), a client without a certificate, one signed by another CA, one without a
# grant. Certificates are made here with .NET, which needs the guest's libssl.so.3/libcrypto.so.3 (initramfs.sh).
# The relay's cost: the whole stick read with O_DIRECT through a plain import first, then through the TLS one; each
# read once, hashed, to check it and warm up, then, once the server and this process have gone idle, three times to
# /dev/null and three times through sha256sum, the fastest of each (LAB-BENCH line, bench/RESULTS.md).
# 10-tls-agent does the same attach through a client agent's profile.
# The waits for idle processes (up to 120 s each, a few seconds once compiled) come on top of the reads:
# lab-timeout: 600
. "$PSScriptRoot/_Lab.ps1"
Assert-LabCommand 'Export-UsbIpDevice', 'Get-UsbIpDevice', 'Connect-UsbIpDevice', 'Disconnect-UsbIpDevice', 'Remove-UsbIpExport'
$busId = $script:LabSharedBusId
$sysfs = "/sys/bus/usb/devices/$busId"
$folder = '/tmp/lab-tls'

# The stick's block device under a given controller path pattern: /dev/sdX, or $null.
function Find-LabDisk([string] $Under) {
    foreach ($block in [IO.Directory]::GetDirectories('/sys/block', 'sd*')) {
        if ((Get-LabRealPath $block) -match $Under) { return '/dev/' + [IO.Path]::GetFileName($block) }
    }
    return $null
}

function Get-LabDiskHash([string] $Device) {
    $stream = [IO.File]::OpenRead($Device)
    try { return [Convert]::ToHexString([Security.Cryptography.SHA256]::HashData($stream)) } finally { $stream.Dispose() }
}

# One whole read of the device with O_DIRECT (1 MiB reads, so every byte crosses the link, not a cache) through
# sha256sum: the hash (hex, upper case as .NET writes it), or $null when the read failed.
function Get-LabDiskReadHash([string] $Device) {
    $output = @(& sh -c "set -o pipefail; dd if=$Device bs=1M iflag=direct 2>/dev/null | sha256sum")
    Write-LabLine "  `$ dd if=$Device bs=1M iflag=direct | sha256sum -> exit ${LASTEXITCODE}: $output"
    if ($LASTEXITCODE -ne 0 -or $output.Count -eq 0) { return $null }
    return (-split $output[0])[0].ToUpperInvariant()
}

# CPU seconds a process has used (utime + stime; /proc/<pid>/stat counts in USER_HZ, 100 on Debian's kernels).
function Get-LabProcessCpuSeconds([int] $ProcessId) {
    $stat = Read-LabFile "/proc/$ProcessId/stat"
    if (-not $stat) { return 0.0 }
    $fields = -split $stat.Substring($stat.LastIndexOf(')') + 2)
    return ([double]$fields[11] + [double]$fields[12]) / 100
}

# CPU seconds per thread name in a process, user and kernel apart (its threads' utime and stime, summed by name; names
# are cut at 15 bytes): @{ name = @(user, kernel) }.
function Get-LabThreadCpuSeconds([int] $ProcessId) {
    $byName = @{}
    foreach ($task in [IO.Directory]::GetDirectories("/proc/$ProcessId/task")) {
        $stat = Read-LabFile "$task/stat"
        if (-not $stat) { continue }
        $name = $stat.Substring($stat.IndexOf('(') + 1, $stat.LastIndexOf(')') - $stat.IndexOf('(') - 1)
        $fields = -split $stat.Substring($stat.LastIndexOf(')') + 2)
        $sums = if ($byName.ContainsKey($name)) { $byName[$name] } else { @(0.0, 0.0) }
        $byName[$name] = @(($sums[0] + [double]$fields[11] / 100), ($sums[1] + [double]$fields[12] / 100))
    }
    return $byName
}

# Which threads of a process used the CPU between two Get-LabThreadCpuSeconds, the busiest first, each with its user
# and kernel part (LAB-DIAG): where a relay's time goes beyond the cipher.
function Write-LabThreadCpu([string] $Label, [hashtable] $Before, [hashtable] $After) {
    $used = foreach ($name in $After.Keys) {
        $was = if ($Before.ContainsKey($name)) { $Before[$name] } else { @(0.0, 0.0) }
        $user = $After[$name][0] - $was[0]; $kernel = $After[$name][1] - $was[1]
        [pscustomobject]@{ Name = $name; Seconds = $user + $kernel; User = $user; Kernel = $kernel }
    }
    $top = @($used | Where-Object { $_.Seconds -gt 0 } | Sort-Object -Property Seconds -Descending | Select-Object -First 6)
    Write-LabLine ("LAB-DIAG tls-relay threads={0} {1}" -f $Label,
        (($top | ForEach-Object { '"{0}"={1:0.0}s(user={2:0.0},sys={3:0.0})' -f $_.Name, $_.Seconds, $_.User, $_.Kernel }) -join ' '))
}

# CPU seconds the whole guest has been busy, all CPUs together (/proc/stat: all but idle and iowait).
function Get-LabGuestBusySeconds {
    $cpu = -split (((Read-LabFile '/proc/stat') -split "`n")[0])
    $busy = 0.0
    foreach ($i in 1, 2, 3, 6, 7, 8) { $busy += [double]$cpu[$i] }
    return $busy / 100
}

# Waits (at most 120 s) until the server and this process have been idle for 2 s together: a freshly started .NET
# process compiles its hot methods again, optimised, on a background thread for its first minute or more under TCG
# (5-11 CPU seconds each), which would compete with what is measured; a running daemon is past that. LAB-DIAG says
# how long it took.
function Wait-LabProcessesSettled([int] $ServerId) {
    $clock = [Diagnostics.Stopwatch]::StartNew()
    $settled = Wait-Lab {
        $before = (Get-LabProcessCpuSeconds $ServerId) + (Get-LabProcessCpuSeconds $PID)
        [Threading.Thread]::Sleep(2000)
        ((Get-LabProcessCpuSeconds $ServerId) + (Get-LabProcessCpuSeconds $PID) - $before) -le 0.1
    } 120
    Write-LabLine ('LAB-DIAG tls-relay settled={0} after_s={1:0.0}' -f $settled, $clock.Elapsed.TotalSeconds)
}

# Three timed whole reads of the stick, to /dev/null or through sha256sum (each hash checked); the fastest is the figure
# (the guest's 2 emulated CPUs share the host with other work, so one read can be slowed several times over). One shell
# runs the three and times each by /proc/uptime, so no PowerShell runs (or compiles) in this process meanwhile. LAB-DIAG
# says where the time went: the guest's busy CPU seconds (of 2 per second: 2 vCPUs) and those of the two processes
# that relay a TLS import (the server and this one, idle on a plain import), over the three reads.
function Measure-LabTimedReads([string] $Device, [string] $Case, [string] $Expected, [int] $ServerId, [switch] $Hash) {
    $kind = if ($Hash) { 'hashed' } else { 'bare' }
    $size = 512 * [long](Read-LabFile "/sys/class/block/$([IO.Path]::GetFileName($Device))/size")
    $read = if ($Hash) { "dd if=$Device bs=1M iflag=direct 2>/dev/null | sha256sum" } else { "dd if=$Device of=/dev/null bs=1M iflag=direct 2>/dev/null && echo -" }
    $script = "set -o pipefail; for n in 1 2 3; do a=`$(cut -d' ' -f1 /proc/uptime); out=`$($read); rc=`$?; b=`$(cut -d' ' -f1 /proc/uptime); echo `$a `$b `$rc `$out; done"
    Wait-LabProcessesSettled $ServerId
    $threads = (Get-LabThreadCpuSeconds $ServerId), (Get-LabThreadCpuSeconds $PID)
    $before = (Get-LabGuestBusySeconds), (Get-LabProcessCpuSeconds $ServerId), (Get-LabProcessCpuSeconds $PID)
    $lines = @(& sh -c $script)
    $after = (Get-LabGuestBusySeconds), (Get-LabProcessCpuSeconds $ServerId), (Get-LabProcessCpuSeconds $PID)
    Write-LabLine ('LAB-DIAG tls-relay reads={0} {1} guest_busy_cpu_s={2:0.0} server_cpu_s={3:0.0} client_cpu_s={4:0.0}' -f
        $Case, $kind, ($after[0] - $before[0]), ($after[1] - $before[1]), ($after[2] - $before[2]))
    Write-LabThreadCpu "$Case-$kind-server" $threads[0] (Get-LabThreadCpuSeconds $ServerId)
    Write-LabThreadCpu "$Case-$kind-client" $threads[1] (Get-LabThreadCpuSeconds $PID)
    $good = @(foreach ($line in $lines) {
        Write-LabLine "  `$ $read -> $line (uptime before and after, exit code, output)"
        $fields = -split $line
        $seconds = [double]$fields[1] - [double]$fields[0]
        if ($fields.Count -ge 4 -and $fields[2] -eq '0' -and $seconds -gt 0 -and (-not $Hash -or $fields[3].ToUpperInvariant() -eq $Expected)) { $size / 1MB / $seconds }
    })
    Assert-LabEqual 3 $good.Count ("$Case : three whole reads out of three{0}" -f $(if ($Hash) { ', each hashed as the server''s own read (sha256)' }))
    if ($good.Count -eq 0) { return $null }
    $best = ($good | Measure-Object -Maximum).Maximum
    Write-LabLine ("  $Case : the whole stick read with O_DIRECT ($kind) at {0} MiB/s (best {1:0.00})" -f (($good | ForEach-Object { '{0:0.00}' -f $_ }) -join ', '), $best)
    return $best
}

# CPU seconds .NET's tiered compilation has used in a process so far (its background thread that compiles hot methods
# again, optimised).
function Get-LabCompilingSeconds([int] $ProcessId) {
    $threads = Get-LabThreadCpuSeconds $ProcessId
    $sum = 0.0
    foreach ($name in $threads.Keys) { if ($name -like '.NET Tiered*') { $sum += $threads[$name][0] + $threads[$name][1] } }
    return $sum
}

# Whole reads to /dev/null (at most 8) until one goes by with no more than 0.05 CPU s of tiered compilation in the
# server: a relay's hot methods are counted, then compiled again (optimised, with .NET's profile-guided tier in between)
# only while it relays, and under TCG that takes seconds of CPU over the first reads. A daemon that has relayed for a
# while is past it, and that steady state is what is measured. The server relays nothing but this; the client's relay
# runs the same code in this process, whose own PowerShell keeps the compiler busy now and then, so only the server is
# watched. LAB-DIAG says how many reads it took and what both processes compiled meanwhile.
function Wait-LabRelayCompiled([string] $Device, [string] $Case, [int] $ServerId) {
    $start = (Get-LabCompilingSeconds $ServerId), (Get-LabCompilingSeconds $PID)
    for ($reads = 1; $reads -le 8; $reads++) {
        $before = Get-LabCompilingSeconds $ServerId
        & sh -c "dd if=$Device of=/dev/null bs=1M iflag=direct 2>/dev/null"
        $last = (Get-LabCompilingSeconds $ServerId) - $before
        if ($last -le 0.05) { break }
    }
    Write-LabLine ('LAB-DIAG tls-relay warm={0} reads={1} server_compiling_cpu_s={2:0.0} client_compiling_cpu_s={3:0.0} last_read_server_compiling_cpu_s={4:0.00}' -f
        $Case, [Math]::Min($reads, 8), ((Get-LabCompilingSeconds $ServerId) - $start[0]), ((Get-LabCompilingSeconds $PID) - $start[1]), $last)
}

# An import's figures: one hashed read first (the bytes checked, and the relay's code compiled before it is measured),
# then reads until the relay's hot code is compiled; then, once the server and this process are idle, the fastest of
# three reads to /dev/null (the transport alone) and the fastest of three through sha256sum (a reader that needs the
# CPU too, as a copy or a checksum does).
function Measure-LabDiskReads([string] $Device, [string] $Case, [string] $Expected, [int] $ServerId) {
    Assert-LabEqual $Expected (Get-LabDiskReadHash $Device) "$Case : the whole block device reads back the same bytes (sha256)"
    Wait-LabRelayCompiled $Device $Case $ServerId
    return [pscustomobject]@{
        Bare = Measure-LabTimedReads $Device $Case $Expected $ServerId
        Hashed = Measure-LabTimedReads $Device $Case $Expected $ServerId -Hash
    }
}

# Where the relay's time could go, said before it is measured: the guest CPU's crypto flags, and each TLS 1.3 cipher's
# own speed here (16 MiB sealed in 16 KiB records, as a TLS stream does it; both relays seal or open each byte once).
function Write-LabCipherDiagnostics {
    $flags = @((Read-LabFile '/proc/cpuinfo') -split "`n" | Where-Object { $_ -match '^flags' } | Select-Object -First 1)
    $present = foreach ($flag in 'aes', 'pclmulqdq', 'avx', 'avx2', 'ssse3') { if (" $flags " -match " $flag ") { $flag } }
    Write-LabLine "LAB-DIAG tls-relay cpu_flags=$($present -join ',')"
    $key = [byte[]]::new(32); $nonce = [byte[]]::new(12); $tag = [byte[]]::new(16)
    $plain = [byte[]]::new(16KB); $sealed = [byte[]]::new(16KB)
    $ciphers = [ordered]@{ aes128gcm = [Security.Cryptography.AesGcm]::new([byte[]]::new(16), 16) }
    if ([Security.Cryptography.ChaCha20Poly1305]::IsSupported) { $ciphers.chacha20poly1305 = [Security.Cryptography.ChaCha20Poly1305]::new($key) }
    foreach ($name in $ciphers.Keys) {
        for ($i = 0; $i -lt 16; $i++) { $ciphers[$name].Encrypt($nonce, $plain, $sealed, $tag) } # the loop compiled, the library loaded
        $clock = [Diagnostics.Stopwatch]::StartNew()
        for ($i = 0; $i -lt 1024; $i++) { $ciphers[$name].Encrypt($nonce, $plain, $sealed, $tag) }
        Write-LabLine ('LAB-DIAG tls-relay cipher={0} mib_s={1:0.0}' -f $name, (16 / $clock.Elapsed.TotalSeconds))
        $ciphers[$name].Dispose()
    }
}

function Test-LabNothingBound([string] $Case) {
    Assert-LabEqual '1' (Read-LabFile "$sysfs/usbip_status") "$Case : $busId stays available (usbip_status 1)"
    Assert-LabEqual 0 @(Get-LabImportedUsbDevice).Count "$Case : nothing on a vhci_hcd bus"
}

Initialize-LabUsbIp
Reset-LabUsbIp # a scenario killed at its time limit leaves the stick attached or exported
$daemon = $null
$port = $null
try {
    New-LabCertificateSet $folder
    Write-LabCipherDiagnostics

    $disk = Wait-Lab { $null -ne (Find-LabDisk '/usb\d+/\d+-\d+/') } 20
    $serverDisk = Find-LabDisk '/usb\d+/\d+-\d+/'
    Assert-Lab $disk "kernel: the stick has a block device on the server side ($serverDisk)"
    $serverHash = if ($serverDisk) { Get-LabDiskHash $serverDisk }

    $null = Export-UsbIpDevice -BusId $busId -Confirm:$false
    Assert-LabEqual '1' (Read-LabFile "$sysfs/usbip_status") "kernel: $busId is exported"

    # The plain figure: the same server with no TLS, the kernel's sockets end to end.
    $daemon = Start-LabVirtTools 'usbipd --address 127.0.0.1 --port 3240'
    $listed = Wait-Lab { @(Get-UsbIpDevice -ComputerName 127.0.0.1 -TimeoutSec 30 -ErrorAction SilentlyContinue).Count -eq 1 } 60
    Assert-Lab $listed 'plain: the server lists the stick'
    $port = Connect-UsbIpDevice -ComputerName 127.0.0.1 -BusId $busId -TimeoutSec 60 -Confirm:$false
    $plainDisk = if ((Wait-Lab { $null -ne (Find-LabDisk '/vhci_hcd\.') } 30)) { Find-LabDisk '/vhci_hcd\.' }
    Assert-Lab ($null -ne $plainDisk) "plain: the stick imported without TLS has a block device ($plainDisk)"
    $plain = if ($plainDisk) { Measure-LabDiskReads $plainDisk 'plain' $serverHash $daemon.Id }
    if ($port) { Disconnect-UsbIpDevice -Port $port.Port -Confirm:$false; $port = $null }
    Assert-Lab (Wait-Lab { (Read-LabFile "$sysfs/usbip_status") -eq '1' } 30) "plain: detached, $busId is available again"
    $daemon.Kill(); $null = $daemon.WaitForExit(5000); $daemon = $null

    $daemon = Start-LabVirtTools (Get-LabTlsServerArguments $folder)
    $tls = @{ UseTls = $true; ServerCaPath = "$folder/lab-ca.crt"; TimeoutSec = 60 } # a loaded TCG guest: handshakes and enumeration take seconds
    $desk = $tls + @{ CertificatePath = "$folder/desk.lab.crt"; KeyPath = "$folder/desk.lab.key" }
    $listed = Wait-Lab { @(Get-UsbIpDevice -ComputerName 127.0.0.1 @desk -ErrorAction SilentlyContinue).Count -eq 1 } 60
    Assert-Lab $listed 'Get-UsbIpDevice -UseTls with the granted client certificate lists the stick'

    $null = Invoke-LabTool usbip attach -r 127.0.0.1 -b $busId
    Assert-Lab ($LASTEXITCODE -ne 0) 'stock usbip attach is refused under --require-tls'
    Test-LabNothingBound 'plain usbip attach'

    $cases = @(
        @{ Case = 'no client certificate'; Parameters = $tls; ErrorId = 'UsbIpTlsHandshakeFailed' }
        @{ Case = 'a certificate of another CA'; Parameters = $tls + @{ CertificatePath = "$folder/stranger.lab.crt"; KeyPath = "$folder/stranger.lab.key" }; ErrorId = 'UsbIpTlsHandshakeFailed' }
        @{ Case = 'a trusted client without a grant'; Parameters = $tls + @{ CertificatePath = "$folder/neighbour.lab.crt"; KeyPath = "$folder/neighbour.lab.key" }; ErrorId = 'UsbIpDeviceNotAvailable' }
    )
    foreach ($case in $cases) {
        $parameters = $case.Parameters
        $result = Connect-UsbIpDevice -ComputerName 127.0.0.1 -BusId $busId @parameters -Confirm:$false -ErrorVariable failures -ErrorAction SilentlyContinue
        Assert-Lab ($null -eq $result) "$($case.Case): Connect-UsbIpDevice -UseTls attaches nothing"
        Assert-LabEqual $case.ErrorId "$($failures[0].FullyQualifiedErrorId)".Split(',')[0] "$($case.Case): the error says why"
        Test-LabNothingBound $case.Case
    }

    $port = Connect-UsbIpDevice -ComputerName 127.0.0.1 -BusId $busId @desk -Confirm:$false -WarningAction SilentlyContinue
    Assert-Lab ($null -ne $port) "Connect-UsbIpDevice -UseTls with the granted certificate returned port $($port.Port)"
    $imported = Assert-LabSharedDeviceImported 'Connect-UsbIpDevice -UseTls against virttools usbipd --require-tls'
    Assert-LabEqual '2' (Read-LabFile "$sysfs/usbip_status") "kernel: $busId usbip_status is 2 (in use, through the server's relay)"
    $found = Wait-Lab { $null -ne (Find-LabDisk '/vhci_hcd\.') } 30
    $clientDisk = Find-LabDisk '/vhci_hcd\.'
    Assert-Lab $found "kernel: the imported stick has a block device ($clientDisk)"
    if ($clientDisk) {
        $overTls = Measure-LabDiskReads $clientDisk 'TLS' $serverHash $daemon.Id
        if ($plain.Bare -and $overTls.Bare -and $plain.Hashed -and $overTls.Hashed) {
            Write-LabLine ('LAB-BENCH tls-relay plain_mib_s={0:0.00} tls_mib_s={1:0.00} ratio={2:0.00} hashed_plain_mib_s={3:0.00} hashed_tls_mib_s={4:0.00} hashed_ratio={5:0.00}' -f
                $plain.Bare, $overTls.Bare, ($overTls.Bare / $plain.Bare), $plain.Hashed, $overTls.Hashed, ($overTls.Hashed / $plain.Hashed))
        }
    }

    if ($port) { Disconnect-UsbIpDevice -Port $port.Port -Confirm:$false; $port = $null }
    Assert-Lab (Wait-Lab { @(Get-LabImportedUsbDevice).Count -eq 0 } 20) 'kernel: the import left the vhci_hcd bus'
    Assert-Lab (Wait-Lab { (Read-LabFile "$sysfs/usbip_status") -eq '1' } 30) "kernel: the relays closed both ends and $busId is available again"
}
finally {
    if ($daemon -and -not $daemon.HasExited) { $daemon.Kill(); $null = $daemon.WaitForExit(5000) }
    Reset-LabUsbIp
    if ((Get-LabLinkName "$sysfs/driver") -eq 'usbip-host') { Remove-UsbIpExport -BusId $busId -Confirm:$false -ErrorAction SilentlyContinue }
}
Complete-LabScenario
