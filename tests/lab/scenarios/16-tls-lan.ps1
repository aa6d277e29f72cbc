# USB/IP over mutual TLS between two guests, as deployed: the server (this guest, 10.10.0.1) and the client (the peer
# guest, 10.10.0.2, booted for this scenario) on the lab's LAN, one relay on each machine. The stick imported by the
# peer's Connect-UsbIpDevice -UseTls reads back the same 16 MiB as on the server side; the relay's cost: the whole stick
# read on the peer through a plain import of the same `virttools usbipd`, then through a TLS one, each once hashed (the
# bytes checked), then until the server's relay is compiled, then, with both relays' processes idle, three times to
# /dev/null, the fastest (LAB-BENCH line, bench/RESULTS.md). 10-tls measures the same with both relays in one guest.
# The peer's boot (a TCG boot of the initramfs while this guest works), the warm-up reads (up to 180 s per import) and
# the waits for idle processes come on top of the timed reads:
# lab-timeout: 1500
. "$PSScriptRoot/_Lab.ps1"
Assert-LabCommand 'Export-UsbIpDevice', 'Connect-UsbIpDevice', 'Disconnect-UsbIpDevice', 'Remove-UsbIpExport'
$busId = $script:LabSharedBusId
$sysfs = "/sys/bus/usb/devices/$busId"
$folder = '/tmp/lab-tls'

# Imports the stick in the peer (Connect-UsbIpDevice with these parameters, as text) and returns its block device
# there, or $null; the peer keeps the port in $labPort for Disconnect-LabPeerStick.
function Connect-LabPeerStick([string] $Parameters) {
    $disk = @(Invoke-LabPeer ("`$labPort = Connect-UsbIpDevice -ComputerName $script:LabLanAddress -BusId $busId $Parameters -Confirm:`$false -WarningAction SilentlyContinue; " +
        "if ((Wait-Lab { `$null -ne (Find-LabDisk '/vhci_hcd\.') } 60)) { Find-LabDisk '/vhci_hcd\.' }"))
    return $disk[0]
}

function Disconnect-LabPeerStick {
    $null = Invoke-LabPeer 'if ($labPort) { Disconnect-UsbIpDevice -Port $labPort.Port -Confirm:$false; $labPort = $null }'
}

# One import across the LAN: `virttools usbipd` with $ServerArguments (and the peer allowed) serving the stick, the
# peer's Connect-UsbIpDevice with $ConnectParameters, the stick in use (usbip_status 2) and read in the peer
# (Measure-LabPeerDiskRead), then detached and available again, the server stopped. The figure, or $null.
function Measure-LabLanImport([string] $Case, [string] $ServerArguments, [string] $ConnectParameters) {
    $script:daemon = Start-LabVirtTools "$ServerArguments --allow $script:LabPeerAddress"
    Assert-Lab (Wait-Lab { (Read-LabFile '/proc/net/tcp') -match '01000A0A:0CA8 00000000:0000 0A' } 60) "$Case : the server listens on $($script:LabLanAddress):3240 (/proc/net/tcp)"
    $disk = Connect-LabPeerStick $ConnectParameters
    Assert-Lab ($null -ne $disk) "$Case : the peer imported the stick, block device $disk there"
    Assert-LabEqual '2' (Read-LabFile "$sysfs/usbip_status") "$Case : kernel: $busId usbip_status is 2 (in use by the peer)"
    $figure = if ($disk) { Measure-LabPeerDiskRead $disk $Case $serverHash $script:daemon.Id }
    Disconnect-LabPeerStick
    Assert-Lab (Wait-Lab { (Read-LabFile "$sysfs/usbip_status") -eq '1' } 30) "$Case : detached (the relays, if any, closed both ends), $busId is available again"
    $script:daemon.Kill(); $null = $script:daemon.WaitForExit(5000); $script:daemon = $null
    return $figure
}

# The peer's figure of an import, as 10-tls's bare one (Measure-LabDiskReads): one hashed read (the bytes checked),
# reads until the server's relay is compiled, a pass of three reads not counted, then the fastest of three reads to
# /dev/null once both relays' processes are idle. The reads run in the peer, whose one process holds the client's relay; the server's relay runs here, in
# $ServerId.
function Measure-LabPeerDiskRead([string] $Device, [string] $Case, [string] $Expected, [int] $ServerId) {
    Assert-LabEqual $Expected (@(Invoke-LabPeer "Get-LabDiskReadHash '$Device'")[0]) "$Case : the whole block device reads back the same bytes in the peer (sha256)"
    Wait-LabRelayCompiled { $null = Invoke-LabPeer "Read-LabDisk '$Device'" } $Case $ServerId
    # One pass of the timed reads not counted: the peer's process runs its counting code for the first time then, and
    # .NET compiles that code meanwhile (3.6 CPU s during the plain reads when they were counted at once), so the
    # counted pass finds both imports' processes equally warm.
    $null = Invoke-LabPeer "Invoke-LabTimedReads '$Device' '$Case-uncounted' @{ client = `$PID }" 900
    Wait-LabProcessesSettled $ServerId
    $threads = Get-LabThreadCpuSeconds $ServerId
    $busy = Get-LabGuestBusySeconds
    $lines = @(Invoke-LabPeer "Invoke-LabTimedReads '$Device' '$Case' @{ client = `$PID }" 900)
    Write-LabLine ('LAB-DIAG tls-relay reads={0} bare server_guest_busy_cpu_s={1:0.0}' -f $Case, ((Get-LabGuestBusySeconds) - $busy))
    Write-LabThreadCpu "$Case-bare-server" $threads (Get-LabThreadCpuSeconds $ServerId)
    return Get-LabFastestRead $lines $Case $Expected
}

Initialize-LabUsbIp
Reset-LabUsbIp # a scenario killed at its time limit leaves the stick attached or exported
$daemon = $null
$peer = $false
try {
    $peer = Start-LabPeer
    Assert-Lab $peer "the peer guest answers on the LAN ($script:LabPeerAddress)"
    if (-not $peer) { throw 'no peer guest' }
    $null = Invoke-LabPeer 'Initialize-LabUsbIp'
    New-LabCertificateSet $folder
    foreach ($file in 'lab-ca.crt', 'desk.lab.crt', 'desk.lab.key') { Copy-LabFileToPeer "$folder/$file" }

    $serverDisk = if ((Wait-Lab { $null -ne (Find-LabDisk '/usb\d+/\d+-\d+/') } 20)) { Find-LabDisk '/usb\d+/\d+-\d+/' }
    Assert-Lab ($null -ne $serverDisk) "kernel: the stick has a block device on the server side ($serverDisk)"
    $serverHash = if ($serverDisk) { Get-LabDiskHash $serverDisk }
    $null = Export-UsbIpDevice -BusId $busId -Confirm:$false
    Assert-LabEqual '1' (Read-LabFile "$sysfs/usbip_status") "kernel: $busId is exported"

    # The plain figure: the same server with no TLS, the kernels' sockets end to end across the LAN; then over TLS.
    $plain = Measure-LabLanImport 'lan-plain' "usbipd --address $script:LabLanAddress --port 3240" '-TimeoutSec 60'
    $overTls = Measure-LabLanImport 'lan-TLS' (Get-LabTlsServerArguments $folder $script:LabLanAddress) `
        "-UseTls -ServerCaPath $folder/lab-ca.crt -CertificatePath $folder/desk.lab.crt -KeyPath $folder/desk.lab.key -TimeoutSec 60"
    if ($plain -and $overTls) {
        Write-LabLine ('LAB-BENCH tls-relay-lan plain_mib_s={0:0.00} tls_mib_s={1:0.00} ratio={2:0.00}' -f $plain, $overTls, ($overTls / $plain))
    }
}
finally {
    if ($daemon -and -not $daemon.HasExited) { $daemon.Kill(); $null = $daemon.WaitForExit(5000) }
    if ($peer) { try { $null = Invoke-LabPeer 'Reset-LabUsbIp' } catch { Write-LabLine "  peer: reset failed: $($_.Exception.Message)" } }
    Reset-LabUsbIp
    if ((Get-LabLinkName "$sysfs/driver") -eq 'usbip-host') { Remove-UsbIpExport -BusId $busId -Confirm:$false -ErrorAction SilentlyContinue }
}
Complete-LabScenario
