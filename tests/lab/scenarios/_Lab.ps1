# Helpers for lab scenarios, dot-sourced by each one. A scenario checks what the KERNEL did (sysfs, /dev, /proc read
# directly) as well as what a cmdlet returned. Every assertion prints one line the guest's init and the host read:
#   LAB-OK <scenario> <text>   /   LAB-FAIL <scenario> <text>
# Only core commands exist in the embedded engine (no Write-Host, Start-Sleep, Get-Content...): .NET does the rest.
$ErrorActionPreference = 'Stop'
$script:LabScenario = [IO.Path]::GetFileNameWithoutExtension($MyInvocation.PSCommandPath)
$script:LabFailures = 0

function Write-LabLine([string] $Text) {
    [Console]::Out.WriteLine($Text)
    [Console]::Out.Flush()
}

function Assert-Lab([bool] $Condition, [string] $Text) {
    if ($Condition) { Write-LabLine "LAB-OK $script:LabScenario $Text" }
    else { $script:LabFailures++; Write-LabLine "LAB-FAIL $script:LabScenario $Text" }
}

function Assert-LabEqual($Expected, $Actual, [string] $Text) {
    Assert-Lab ($null -ne $Expected -and "$Expected" -eq "$Actual") "$Text (expected '$Expected', got '$Actual')"
}

# Stops the scenario unless every command it uses is exported: a clear failure, not a CommandNotFoundException.
function Assert-LabCommand([string[]] $Name) {
    $missing = @($Name | Where-Object { -not (Get-Command -Name $_ -Module VirtTools -ErrorAction SilentlyContinue) })
    foreach ($command in $missing) { Assert-Lab $false "not implemented: $command" }
    if ($missing.Count -gt 0) { throw "$($missing.Count) command(s) not implemented: $($missing -join ', ')" }
}

# Ends the scenario: a terminating error when an assertion failed, so virttools exits non-zero too.
function Complete-LabScenario {
    if ($script:LabFailures -gt 0) { throw "$script:LabFailures assertion(s) failed" }
}

# A sysfs/procfs attribute as trimmed text; $null when missing or unreadable.
function Read-LabFile([string] $Path) {
    if (-not [IO.File]::Exists($Path)) { return $null }
    try { return [IO.File]::ReadAllText($Path).Trim() } catch { return $null }
}

function Write-LabFile([string] $Path, [string] $Value) {
    [IO.File]::WriteAllText($Path, $Value)
}

# The name a sysfs symlink points to (a "driver" link gives the driver's name); $null when there is no link.
function Get-LabLinkName([string] $Path) {
    $target = [IO.FileInfo]::new($Path).LinkTarget
    if ($null -eq $target) { return $null }
    return [IO.Path]::GetFileName($target)
}

# The real path of a sysfs entry (links resolved), to tell e.g. an xHCI device from one on a vhci_hcd bus.
# A device that is being unplugged can vanish between listing and resolving: its path is then $null.
function Get-LabRealPath([string] $Path) {
    try { $resolved = [IO.Directory]::ResolveLinkTarget($Path, $true) } catch { return $null }
    if ($null -eq $resolved) { return $Path }
    return $resolved.FullName
}

# Polls a condition (the kernel works asynchronously: probing, enumeration, ksmd); $true when it came true in time.
function Wait-Lab([scriptblock] $Condition, [int] $TimeoutSec = 15) {
    $deadline = [DateTime]::UtcNow.AddSeconds($TimeoutSec)
    while ([DateTime]::UtcNow -lt $deadline) {
        if (& $Condition) { return $true }
        [Threading.Thread]::Sleep(100)
    }
    return [bool](& $Condition)
}

# Runs a native tool (busybox, usbip); its output lines, and the exit code in $LASTEXITCODE.
function Invoke-LabTool([string] $Tool) {
    $output = @(& $Tool @args 2>&1 | ForEach-Object { "$_" })
    Write-LabLine "  `$ $Tool $($args -join ' ') -> exit $LASTEXITCODE"
    foreach ($line in $output) { Write-LabLine "    $line" }
    return $output
}

# The PCI address of the first function with this vendor:device, read from sysfs.
function Find-LabPciAddress([string] $Vendor, [string] $Device) {
    foreach ($dir in [IO.Directory]::GetDirectories('/sys/bus/pci/devices')) {
        if ((Read-LabFile "$dir/vendor") -eq "0x$Vendor" -and (Read-LabFile "$dir/device") -eq "0x$Device") {
            return [IO.Path]::GetFileName($dir)
        }
    }
    return $null
}

# USB devices (not interfaces, not root hubs) that sit on a vhci_hcd bus, i.e. imported over USB/IP.
function Get-LabImportedUsbDevice {
    foreach ($dir in [IO.Directory]::GetDirectories('/sys/bus/usb/devices')) {
        $name = [IO.Path]::GetFileName($dir)
        if ($name -match '^\d+-[\d.]+$' -and (Get-LabRealPath $dir) -match '/vhci_hcd\.\d+/') { $name }
    }
}

# ---- USB/IP (scenarios 02, 03): the storage device is the one shared; vhci_hcd ports are checked in its status files
$script:LabSharedBusId = '2-3'

# The vhci_hcd status line of a port ("hs  0001 006 ..."): port numbers there are global across controllers.
# Any device imported over USB/IP is present (a vhci_hcd bus holds a device).
function Test-LabImported { @(Get-LabImportedUsbDevice).Count -gt 0 }

# A client profile that attaches the stick (matched by ids: its bus id moves on a replug) from 127.0.0.1:3240 and
# keeps it attached (reconnect: true).
function Write-LabStickClientProfile([string] $Path) {
    [IO.File]::WriteAllText($Path, @"
usbip:
  attachments:
    - computerName: 127.0.0.1
      tcpPort: 3240
      match: { vendorId: "46f4", productId: "0001" }
      reconnect: true
"@)
}

# Every status row of every vhci_hcd controller as its fields: hub port sta ... (all status files are under vhci_hcd.0).
function Get-LabVhciRow {
    foreach ($file in [IO.Directory]::GetFiles('/sys/devices/platform/vhci_hcd.0', 'status*')) {
        foreach ($line in [IO.File]::ReadAllLines($file)) {
            $fields = -split $line
            if ($fields.Count -ge 3 -and $fields[1] -match '^\d+$') { , $fields }
        }
    }
}

function Get-LabVhciPortStatus([int] $Port) {
    # vhci_hcd.0 holds status, status.1...; never search sysfs recursively (it is huge and slow to walk under TCG)
    $controllers = [IO.Directory]::GetDirectories('/sys/devices/platform', 'vhci_hcd.*')
    foreach ($file in @($controllers | ForEach-Object { [IO.Directory]::GetFiles($_, 'status*') })) {
        foreach ($line in [IO.File]::ReadAllLines($file)) {
            $fields = -split $line
            if ($fields.Count -ge 3 -and $fields[1] -match '^\d+$' -and [int]$fields[1] -eq $Port) { return $fields[2] }
        }
    }
    return $null
}

# The attach records in /run/vhci_hcd (usbip's and ours). A port the kernel freed by itself (its peer died) keeps its
# record until the next attach to that port, as with usbip's own tools, so a scenario checks only what it added.
function Get-LabVhciRecord {
    if (-not [IO.Directory]::Exists('/run/vhci_hcd')) { return @() }
    return @([IO.Directory]::GetFiles('/run/vhci_hcd', 'port*') | ForEach-Object { [IO.Path]::GetFileName($_) })
}

# Loads the USB/IP drivers (the kernel's modules, as an admin would before using USB/IP).
function Initialize-LabUsbIp {
    $null = Invoke-LabTool modprobe usbip-host
    $null = Invoke-LabTool modprobe vhci-hcd
}

# Puts the shared device back as the lab found it, whatever a failed scenario left: no attachment, no export.
function Reset-LabUsbIp {
    foreach ($line in @(& usbip port 2>$null)) {
        if ("$line" -match '^Port (\d+):') { $null = & usbip detach -p $Matches[1] 2>&1 }
    }
    if ((Get-LabLinkName "/sys/bus/usb/devices/$script:LabSharedBusId/driver") -eq 'usbip-host') {
        $null = & usbip unbind -b $script:LabSharedBusId 2>&1
    }
}

# A cmdlet attaches before it returns; an agent that was just started (its process start, its server's first listen,
# its backoff) may take far longer on a loaded TCG guest: it gets a longer bound.
function Assert-LabSharedDeviceImported([string] $How, [int] $TimeoutSec = 15) {
    $ok = Wait-Lab { @(Get-LabImportedUsbDevice).Count -gt 0 } $TimeoutSec
    Assert-Lab $ok "kernel: the device appeared on a vhci_hcd bus ($How)"
    $imported = @(Get-LabImportedUsbDevice)[0]
    if (-not $imported) { return $null }
    $sysfs = "/sys/bus/usb/devices/$imported"
    Assert-LabEqual '46f4:0001' "$(Read-LabFile "$sysfs/idVendor"):$(Read-LabFile "$sysfs/idProduct")" "kernel: $imported has the shared device's vid:pid"
    Assert-LabEqual 'LAB0001' (Read-LabFile "$sysfs/serial") "kernel: $imported has the shared device's serial"
    return $imported
}

# ---- virttools daemons (scenarios 08, 09): started in the background, their log lines go to the scenario's output
function Start-LabVirtTools([string] $Arguments) {
    $process = [Diagnostics.Process]::Start('/opt/virttools/virttools', $Arguments)
    Write-LabLine "  started virttools $Arguments (pid $($process.Id))"
    return $process
}

# `virttools agent` keeping a profile true, a pass every second.
function Start-LabAgent([string] $Config, [string] $Options = '') {
    return Start-LabVirtTools "agent --config $Config --interval 1 $Options".TrimEnd()
}

function Stop-LabAgent($Agent) {
    if ($Agent -and -not $Agent.HasExited) { $Agent.Kill(); $null = $Agent.WaitForExit(5000) }
}

# ---- requests to the host (lib/qemu.sh carries out only the ones it lists: hot-plug, start-peer, host-cpu)
# Straight to the serial console, past [Console]::Out: the peer (guest/peer.ps1) gathers that for the main guest until
# its script ends, and a request must reach the host when it is made.
function Invoke-LabQemu([string] $Request) {
    [Console]::Out.Flush()
    $line = [Text.Encoding]::UTF8.GetBytes("LAB-QEMU $Request`n")
    $console = [Console]::OpenStandardOutput()
    $console.Write($line, 0, $line.Length)
    $console.Flush()
}

# The bus id the storage stick has now on the xHCI (2-3 at boot, another after a replug on another port); $null if none.
function Find-LabStick {
    foreach ($dir in [IO.Directory]::GetDirectories('/sys/bus/usb/devices')) {
        $name = [IO.Path]::GetFileName($dir)
        if ($name -notmatch '^\d+-[\d.]+$' -or (Read-LabFile "$dir/serial") -ne 'LAB0001') { continue }
        $real = Get-LabRealPath $dir
        if ($real -and $real -notmatch '/vhci_hcd\.') { return $name }
    }
    return $null
}

# Unplugs the stick and plugs it back on xHCI port $Port; the bus id it comes back with, or $null after $TimeoutSec.
function Invoke-LabReplug([int] $Port, [int] $TimeoutSec = 40) {
    $before = Find-LabStick
    Invoke-LabQemu 'unplug-stick'
    $gone = Wait-Lab { $null -eq (Find-LabStick) } $TimeoutSec
    Write-LabLine "  replug: $before unplugged ($gone)"
    Invoke-LabQemu "plug-stick $Port"
    $null = Wait-Lab { $null -ne (Find-LabStick) } $TimeoutSec
    $after = Find-LabStick
    Write-LabLine "  replug: plugged on port $Port as $after"
    return $after
}

# ---- TLS (scenarios 10-tls, 10-tls-agent): certificates made in the guest with .NET (the initramfs' libssl3)
function New-LabCertificate([string] $Folder, [string] $Name, $Issuer, [string] $Purpose) {
    $key = [Security.Cryptography.ECDsa]::Create([Security.Cryptography.ECCurve+NamedCurves]::nistP256)
    $request = [Security.Cryptography.X509Certificates.CertificateRequest]::new("CN=$Name", $key, 'SHA256')
    $request.CertificateExtensions.Add([Security.Cryptography.X509Certificates.X509BasicConstraintsExtension]::new(-not $Issuer, $false, 0, $true))
    $now = [DateTimeOffset]::UtcNow
    if (-not $Issuer) { $certificate = $request.CreateSelfSigned($now.AddHours(-1), $now.AddDays(1)) }
    else {
        $usage = [Security.Cryptography.OidCollection]::new()
        $null = $usage.Add([Security.Cryptography.Oid]::new($Purpose))
        $request.CertificateExtensions.Add([Security.Cryptography.X509Certificates.X509EnhancedKeyUsageExtension]::new($usage, $false))
        $names = [Security.Cryptography.X509Certificates.SubjectAlternativeNameBuilder]::new()
        $names.AddDnsName($Name)
        $names.AddIpAddress([Net.IPAddress]::Loopback)
        $names.AddIpAddress([Net.IPAddress]::Parse($script:LabLanAddress))
        $request.CertificateExtensions.Add($names.Build())
        $issued = $request.Create($Issuer, $now.AddMinutes(-10), $now.AddHours(20), [byte[]](1, 2, 3, 4, 5, 6, 7, [byte][Random]::Shared.Next(256)))
        $certificate = [Security.Cryptography.X509Certificates.ECDsaCertificateExtensions]::CopyWithPrivateKey($issued, $key)
    }
    [IO.File]::WriteAllText("$Folder/$Name.crt", $certificate.ExportCertificatePem())
    [IO.File]::WriteAllText("$Folder/$Name.key", $key.ExportPkcs8PrivateKeyPem())
    return $certificate
}

# A CA and another one; the server's certificate for 127.0.0.1 (and the LAN's 10.10.0.1); desk.lab and neighbour.lab
# signed by the CA, stranger.lab by the other.
function New-LabCertificateSet([string] $Folder) {
    $null = [IO.Directory]::CreateDirectory($Folder)
    $ca = New-LabCertificate $Folder 'lab-ca' $null ''
    $other = New-LabCertificate $Folder 'other-ca' $null ''
    $null = New-LabCertificate $Folder '127.0.0.1' $ca '1.3.6.1.5.5.7.3.1'
    foreach ($client in 'desk.lab', 'neighbour.lab') { $null = New-LabCertificate $Folder $client $ca '1.3.6.1.5.5.7.3.2' }
    $null = New-LabCertificate $Folder 'stranger.lab' $other '1.3.6.1.5.5.7.3.2'
}

# `virttools usbipd` with mutual TLS only, and a grant of the stick (46f4:0001) to desk.lab alone.
function Get-LabTlsServerArguments([string] $Folder, [string] $Address = '127.0.0.1') {
    "usbipd --address $Address --port 3240 --tls-certificate $Folder/127.0.0.1.crt --tls-key $Folder/127.0.0.1.key " +
        "--client-ca $Folder/lab-ca.crt --require-tls --grant desk.lab=46f4:0001"
}

# ---- whole-stick reads (10-tls, 16-tls-lan): what a USB/IP import reads, checked and timed, and where the CPU went
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

# One whole read of the device with O_DIRECT to /dev/null.
function Read-LabDisk([string] $Device) {
    & sh -c "dd if=$Device of=/dev/null bs=1M iflag=direct 2>/dev/null"
}

# A /proc stat file (a process's or a thread's) as Name and its User and Kernel CPU seconds (utime and stime, counted
# in USER_HZ, 100 on Debian's kernels); $null when it is gone. The name sits in parentheses and may hold spaces.
function Read-LabStat([string] $Path) {
    $stat = Read-LabFile $Path
    if (-not $stat) { return $null }
    $fields = -split $stat.Substring($stat.LastIndexOf(')') + 2)
    [pscustomobject]@{
        Name = $stat.Substring($stat.IndexOf('(') + 1, $stat.LastIndexOf(')') - $stat.IndexOf('(') - 1)
        User = [double]$fields[11] / 100
        Kernel = [double]$fields[12] / 100
    }
}

# CPU seconds a process has used, user and kernel together.
function Get-LabProcessCpuSeconds([int] $ProcessId) {
    $stat = Read-LabStat "/proc/$ProcessId/stat"
    if (-not $stat) { return 0.0 }
    return $stat.User + $stat.Kernel
}

# A process's threads as the kernel counts them: Read-LabStat's Name (cut at 15 bytes), User and Kernel, and the Id.
function Get-LabThreadStat([int] $ProcessId) {
    $tasks = try { [IO.Directory]::GetDirectories("/proc/$ProcessId/task") } catch { @() }
    foreach ($task in $tasks) {
        $stat = Read-LabStat "$task/stat"
        if ($stat) { $stat | Add-Member -NotePropertyName Id -NotePropertyValue ([IO.Path]::GetFileName($task)) -PassThru }
    }
}

# CPU seconds per thread name in a process, user and kernel apart (summed by name): @{ name = @(user, kernel) }.
function Get-LabThreadCpuSeconds([int] $ProcessId) {
    $byName = @{}
    foreach ($thread in Get-LabThreadStat $ProcessId) {
        $sums = if ($byName.ContainsKey($thread.Name)) { $byName[$thread.Name] } else { @(0.0, 0.0) }
        $byName[$thread.Name] = @(($sums[0] + $thread.User), ($sums[1] + $thread.Kernel))
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

# CPU seconds of each of .NET's tiered-compilation threads in a process (the thread that compiles hot methods again,
# optimised), by thread id: @{ id = seconds }. The runtime ends that thread after a few idle seconds and starts another
# when there is work again, so a sum by name would lose a finished thread's time.
function Get-LabCompilerThreads([int] $ProcessId) {
    $threads = @{}
    foreach ($thread in Get-LabThreadStat $ProcessId) {
        if ($thread.Name -like '.NET Tiered*') { $threads[$thread.Id] = $thread.User + $thread.Kernel }
    }
    return $threads
}

# CPU seconds a process's tiered compilation took since $Before (Get-LabCompilerThreads), or $null when a thread of
# $Before has ended meanwhile: what it did before it ended is lost with it.
function Measure-LabCompilingSince([int] $ProcessId, [hashtable] $Before) {
    $after = Get-LabCompilerThreads $ProcessId
    foreach ($id in $Before.Keys) { if (-not $after.ContainsKey($id)) { return $null } }
    $sum = 0.0
    foreach ($id in $after.Keys) { $sum += $after[$id] - $(if ($Before.ContainsKey($id)) { $Before[$id] } else { 0.0 }) }
    return $sum
}

# Waits (at most 120 s) until these processes have been idle for 2 s together: a freshly started .NET process compiles
# its hot methods again, optimised, on a background thread for its first minute or more under TCG (5-11 CPU seconds
# each), which would compete with what is measured; a running daemon is past that. LAB-DIAG says how long it took.
function Wait-LabProcessesSettled([int[]] $ProcessId) {
    $clock = [Diagnostics.Stopwatch]::StartNew()
    $settled = Wait-Lab {
        $before = 0.0; foreach ($id in $ProcessId) { $before += Get-LabProcessCpuSeconds $id }
        [Threading.Thread]::Sleep(2000)
        $after = 0.0; foreach ($id in $ProcessId) { $after += Get-LabProcessCpuSeconds $id }
        ($after - $before) -le 0.1
    } 120
    Write-LabLine ('LAB-DIAG tls-relay settled={0} after_s={1:0.0}' -f $settled, $clock.Elapsed.TotalSeconds)
}

# Whole reads ($Read does one) until one goes by with no more than 0.05 CPU s of tiered compilation in the server (and
# none of its compiler threads ended during it, which would hide what it did), at most 24 reads or 180 s: a relay's hot
# methods are counted, then compiled again (optimised, with .NET's profile-guided tier in between) only while it
# relays, and under TCG that takes 15-20 CPU s over the first eight 16 MiB reads, still 1-4 s on the eighth. A daemon
# that has relayed for a while is past it, and that steady state is what is measured. The server relays nothing but
# this; the client's relay runs in a process whose own PowerShell keeps the compiler busy now and then, so only the
# server is watched (the client's compilation shows in the timed reads' thread lines). LAB-DIAG says how many reads it
# took and what the server compiled meanwhile.
function Wait-LabRelayCompiled([scriptblock] $Read, [string] $Case, [int] $ServerId) {
    $clock = [Diagnostics.Stopwatch]::StartNew()
    $total = 0.0
    $reads = 0
    do {
        $before = Get-LabCompilerThreads $ServerId
        $null = & $Read
        $reads++
        $last = Measure-LabCompilingSince $ServerId $before
        if ($null -ne $last) { $total += $last }
        $compiled = $null -ne $last -and $last -le 0.05
    } until ($compiled -or $reads -ge 24 -or $clock.Elapsed.TotalSeconds -ge 180)
    Write-LabLine ('LAB-DIAG tls-relay warm={0} reads={1} secs={2:0} compiled={3} server_compiling_cpu_s={4:0.0} last_read_server_compiling_cpu_s={5}' -f
        $Case, $reads, $clock.Elapsed.TotalSeconds, $compiled, $total, $(if ($null -eq $last) { 'unknown' } else { '{0:0.00}' -f $last }))
}

# The size of every SCSI read the timed reads make. An O_DIRECT read's request is cut at the queue's 32 segments, and a
# segment is as long as the run of physically adjacent pages in dd's buffer: so a 1 MiB read went out in requests of
# 128 KiB to 1 MiB, a new draw with every dd, and each request is one round trip through USB/IP (and both relays). A
# read set with 1 MiB requests ran twice as fast as one with 171 KiB (bench/RESULTS.md, session 18). 128 KiB is what
# any buffer allows (32 pages), about usb-storage's own 120 KiB for a USB 2 stick, and the same for plain and TLS.
$script:LabReadRequestKiB = 128

# Three timed whole reads of the stick, to /dev/null or through sha256sum, once the given processes (@{ role = pid })
# have gone idle. One shell runs the three and times each by /proc/uptime, so no PowerShell runs (or compiles) in this
# process meanwhile. Its lines: "start end exit-code bytes output". LAB-DIAG says where the time went over the three:
# this guest's busy CPU seconds (of 2 per second: 2 vCPUs), each process's, and per thread; and the block requests the
# reads made, so two sets can be seen to have made the same ones.
function Invoke-LabTimedReads([string] $Device, [string] $Case, [hashtable] $Processes, [switch] $Hash) {
    $kind = if ($Hash) { 'hashed' } else { 'bare' }
    $block = "/sys/class/block/$([IO.Path]::GetFileName($Device))"
    $size = 512 * [long](Read-LabFile "$block/size")
    Write-LabFile "$block/queue/max_sectors_kb" $script:LabReadRequestKiB
    $read = if ($Hash) { "dd if=$Device bs=1M iflag=direct 2>/dev/null | sha256sum" } else { "dd if=$Device of=/dev/null bs=1M iflag=direct 2>/dev/null && echo -" }
    $script = "set -o pipefail; for n in 1 2 3; do a=`$(cut -d' ' -f1 /proc/uptime); out=`$($read); rc=`$?; b=`$(cut -d' ' -f1 /proc/uptime); echo `$a `$b `$rc $size `$out; done"
    $roles = @($Processes.Keys | Sort-Object)
    # the counting below runs once before the wait too: the code it runs is then no longer new to .NET's tiering, which
    # would otherwise compile it on its background thread during the reads
    foreach ($pass in 1, 2) {
        if ($pass -eq 2) { Wait-LabProcessesSettled @($roles | ForEach-Object { $Processes[$_] }) }
        $threads = @($roles | ForEach-Object { Get-LabThreadCpuSeconds $Processes[$_] })
        $cpu = @($roles | ForEach-Object { Get-LabProcessCpuSeconds $Processes[$_] })
        $busy = Get-LabGuestBusySeconds
    }
    $before = -split (Read-LabFile "$block/stat")
    Invoke-LabQemu "host-cpu $Case-$kind begin"
    $lines = if ($Case -cmatch 'TLS' -and -not $Hash) { Invoke-LabProfiled $script $Case } else { @(& sh -c $script) }
    Invoke-LabQemu "host-cpu $Case-$kind end"
    $after = -split (Read-LabFile "$block/stat")
    $requests = [long]$after[0] - [long]$before[0]
    $spent = for ($i = 0; $i -lt $roles.Count; $i++) { '{0}_cpu_s={1:0.0}' -f $roles[$i], ((Get-LabProcessCpuSeconds $Processes[$roles[$i]]) - $cpu[$i]) }
    Write-LabLine ('LAB-DIAG tls-relay reads={0} {1} block_requests={2} kib_per_request={3:0} guest_busy_cpu_s={4:0.0} {5}' -f $Case, $kind, $requests,
        (([long]$after[2] - [long]$before[2]) / 2 / [math]::Max($requests, 1)), ((Get-LabGuestBusySeconds) - $busy), ($spent -join ' '))
    for ($i = 0; $i -lt $roles.Count; $i++) { Write-LabThreadCpu "$Case-$kind-$($roles[$i])" $threads[$i] (Get-LabThreadCpuSeconds $Processes[$roles[$i]]) }
    foreach ($line in $lines) { Write-LabLine "  `$ $read -> $line (uptime before and after, exit code, bytes, output)" }
    return $lines
}

# Runs a shell script, under `perf record` of the whole guest when the lab was run with --profile (perf is then in the
# initramfs), and prints the profile: LAB-PERF lines, the share of samples per thread name and library, per symbol, and
# per thread name and symbol (the relay's pumps are "usbip->kernel" and "usbip->network").
# Under TCG a sample lands where the emulated CPU takes the timer interrupt: at the start of a translated block or on a
# `rep` string instruction, so a loop's samples gather on its first address. Returns the script's output lines.
function Invoke-LabProfiled([string] $Script, [string] $Case) {
    if (-not [IO.File]::Exists('/usr/bin/perf')) { return @(& sh -c $Script) }
    $data = "/tmp/perf-$Case.data"
    $lines = @(& /usr/bin/perf record -q -a -e cpu-clock -F 997 -o $data -- sh -c $Script 2>$null)
    foreach ($sort in 'comm,dso', 'dso,sym', 'comm,sym') {
        $report = @(& /usr/bin/perf report -i $data --stdio --sort $sort --percent-limit 0.4 2>$null)
        foreach ($line in $report) { if ($line -match '^\s+\d') { Write-LabLine "LAB-PERF $Case $sort $($line.Trim())" } }
    }
    Remove-Item $data -ErrorAction SilentlyContinue
    return $lines
}

# The fastest of Invoke-LabTimedReads' three reads in MiB/s (the guest's 2 emulated CPUs share the host with other work,
# so one read can be slowed several times over), each asserted whole and, hashed, as the server's own read; $null if none.
function Get-LabFastestRead([string[]] $Lines, [string] $Case, [string] $Expected, [switch] $Hash) {
    $good = @(foreach ($line in $Lines) {
        $fields = -split $line
        $seconds = [double]$fields[1] - [double]$fields[0]
        if ($fields.Count -ge 5 -and $fields[2] -eq '0' -and $seconds -gt 0 -and (-not $Hash -or $fields[4].ToUpperInvariant() -eq $Expected)) { [double]$fields[3] / 1MB / $seconds }
    })
    Assert-LabEqual 3 $good.Count ("$Case : three whole reads out of three{0}" -f $(if ($Hash) { ', each hashed as the server''s own read (sha256)' }))
    if ($good.Count -eq 0) { return $null }
    $best = ($good | Measure-Object -Maximum).Maximum
    Write-LabLine ("  $Case : the whole stick read with O_DIRECT ({0}) at {1} MiB/s (best {2:0.00})" -f $(if ($Hash) { 'hashed' } else { 'bare' }),
        (($good | ForEach-Object { '{0:0.00}' -f $_ }) -join ', '), $best)
    return $best
}

# ---- the lab's LAN and the peer guest (lib/qemu.sh, guest/peer.ps1; 16-tls-lan): this guest is 10.10.0.1, the peer
# 10.10.0.2, booted only when a scenario asks for it
$script:LabLanAddress = '10.10.0.1'
$script:LabPeerAddress = '10.10.0.2'

# Runs a script in the peer guest and returns its output lines. What it wrote to its console is written here (its LAB-
# lines as they are, the rest marked "peer|"). A script that stopped on an error throws here with the peer's message;
# the answer is awaited at most $TimeoutSec.
function Invoke-LabPeer([string] $Script, [int] $TimeoutSec = 300) {
    $client = [Net.Sockets.TcpClient]::new()
    $output = [Collections.Generic.List[string]]::new()
    $status = $null
    try {
        $connect = $client.ConnectAsync($script:LabPeerAddress, 7000)
        if (-not $connect.Wait(10000)) { throw "peer: no connection to $($script:LabPeerAddress):7000 within 10 s" }
        $client.ReceiveTimeout = $TimeoutSec * 1000
        $stream = $client.GetStream()
        $bytes = [Text.Encoding]::UTF8.GetBytes($Script)
        $stream.Write($bytes, 0, $bytes.Length)
        $client.Client.Shutdown([Net.Sockets.SocketShutdown]::Send)
        $reader = [IO.StreamReader]::new($stream, [Text.Encoding]::UTF8)
        while ($null -ne ($line = $reader.ReadLine())) {
            if ($line.StartsWith('log LAB-')) { Write-LabLine $line.Substring(4) }
            elseif ($line.StartsWith('log ')) { Write-LabLine "  peer| $($line.Substring(4))" }
            elseif ($line.StartsWith('out ')) { $output.Add($line.Substring(4)) }
            else { $status = $line }
        }
    }
    finally { $client.Dispose() }
    if ($status -ne 'LAB-PEER-END') { throw "peer: $(if ($status) { $status } else { 'the answer ended without a status' })" }
    return $output.ToArray()
}

# Boots the peer (LAB-QEMU start-peer) and waits until it answers on the LAN; $true when it did within $TimeoutSec (a
# TCG boot of the whole initramfs and the host's start-up take minutes while this guest works too).
function Start-LabPeer([int] $TimeoutSec = 600) {
    $clock = [Diagnostics.Stopwatch]::StartNew()
    Invoke-LabQemu 'start-peer'
    $up = Wait-Lab { try { 'ready' -eq @(Invoke-LabPeer "'ready'" 60)[0] } catch { [Threading.Thread]::Sleep(2000); $false } } $TimeoutSec
    Write-LabLine ('  peer: answering={0} after {1:0} s' -f $up, $clock.Elapsed.TotalSeconds)
    return $up
}

# Writes this guest's file at the same path in the peer (certificates and keys: small files).
function Copy-LabFileToPeer([string] $Path) {
    $content = [Convert]::ToBase64String([IO.File]::ReadAllBytes($Path))
    $null = Invoke-LabPeer ("`$null = [IO.Directory]::CreateDirectory('{0}'); [IO.File]::WriteAllBytes('{1}', [Convert]::FromBase64String('{2}'))" -f
        [IO.Path]::GetDirectoryName($Path), $Path, $content)
}
