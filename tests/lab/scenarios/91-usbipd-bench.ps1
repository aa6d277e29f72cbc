# Device-list round trips, the kernel's usbipd against `virttools usbipd`, with one static C client (devlist-bench)
# on loopback in the same guest: the figures for bench/RESULTS.md that this machine cannot take (usbipd needs
# usbip-host). Both serve the stick bound by `usbip bind`; their replies must be the same size, byte for byte.
. "$PSScriptRoot/_Lab.ps1"
$busId = $script:LabSharedBusId
# Up to four slices of 10 s per server, taken in turns, so that a host whose load changes (TCG shares it) weighs on
# both alike; each slice is also bounded in rounds. Each slice is one LAB-BENCH line (bench/ sums them), and new pairs
# start only while the scenario has used less than $budget seconds, so that it ends within its 180 s even when a
# loaded host makes the guest crawl.
$clock = [Diagnostics.Stopwatch]::StartNew()
$budget = 90
$slices = 4
$sliceRounds = 300
$sliceSeconds = 10
Initialize-LabUsbIp
$servers = @()
function Start-LabServer([string] $Path, [string] $Arguments, [int] $TcpPort) {
    $process = [Diagnostics.Process]::Start($Path, $Arguments)
    $hex = '{0:X4}' -f $TcpPort
    $listening = Wait-Lab { (Read-LabFile '/proc/net/tcp') -match ":$hex 00000000:0000 0A" } 60
    Assert-Lab $listening "kernel: $([IO.Path]::GetFileName($Path)) listens on TCP $TcpPort"
    return $process
}
function Measure-LabSlice([string] $Name, [int] $TcpPort) {
    $line = @(Invoke-LabTool /lab/bin/devlist-bench 127.0.0.1 $TcpPort $sliceRounds $sliceSeconds) -join ' '
    Write-LabLine "LAB-BENCH devlist $Name $line"
    $figures = @{}
    foreach ($pair in -split $line) { $key, $value = $pair -split '=', 2; $figures[$key] = $value }
    Assert-LabEqual '0' $figures['failures'] "$Name answered all $($figures['rounds']) device lists of the slice"
    return $figures
}
try {
    $null = Invoke-LabTool usbip bind -b $busId
    Assert-LabEqual 'usbip-host' (Get-LabLinkName "/sys/bus/usb/devices/$busId/driver") "kernel: $busId bound to usbip-host"
    $servers += Start-LabServer '/usr/sbin/usbipd' '--tcp-port 3240' 3240
    $servers += Start-LabServer '/opt/virttools/virttools' 'usbipd --address 127.0.0.1 --port 3241' 3241
    $kernel = @(); $ours = @()
    for ($slice = 0; $slice -lt $slices -and ($slice -eq 0 -or $clock.Elapsed.TotalSeconds -lt $budget); $slice++) {
        $kernel += Measure-LabSlice 'usbipd' 3240
        $ours += Measure-LabSlice 'virttools' 3241
    }
    Assert-Lab ([int]$kernel[0]['bytes'] -gt 12) "usbipd lists the stick ($($kernel[0]['bytes']) bytes)"
    Assert-LabEqual $kernel[0]['bytes'] $ours[0]['bytes'] 'virttools usbipd sends a reply of the same size'
}
finally {
    foreach ($server in $servers) { if (-not $server.HasExited) { $server.Kill(); $null = $server.WaitForExit(5000) } }
    Reset-LabUsbIp
}
Complete-LabScenario
