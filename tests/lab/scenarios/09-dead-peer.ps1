# A peer that vanishes without a FIN (cable pulled, laptop suspended) must not hold the device. The stick is exported
# and served by `virttools usbipd`, and attached over 127.0.0.1 by a client `virttools agent` (reconnect: true), both
# with --dead-peer-timeout 12. A netfilter rule then drops everything one side sends, so the other hears nothing: not
# a FIN, not a reset, not an ACK. First the client goes silent (packets to port 3240 dropped), then the server
# (packets from 3240). Each time usbip-host must make the export available again (usbip_status 1) and vhci_hcd free
# the port (status 004) within the timeout, the kernel's readers woken by the keepalive and TCP_USER_TIMEOUT set on
# the sockets before the hand-over (without them the system's keepalive waits over two hours). When the rule goes,
# the agent attaches the stick again by itself. TCG is slow: the waits allow five times the timeout.
. "$PSScriptRoot/_Lab.ps1"
Assert-LabCommand 'Export-UsbIpDevice', 'Get-UsbIpDevice', 'Get-UsbIpPort'
$busId = $script:LabSharedBusId
$status = "/sys/bus/usb/devices/$busId/usbip_status"
$timeout = 12
$bound = 5 * $timeout
Initialize-LabUsbIp
# libcrc32c (under nf_tables) asks the crypto API for crc32c, a soft dependency busybox's modprobe does not follow.
$null = Invoke-LabTool modprobe crc32c_generic
$null = Invoke-LabTool modprobe nf_tables
Write-LabStickClientProfile '/tmp/dead-peer-client.yaml'
# Something listens on 127.0.0.1:3240 (/proc/net/tcp: local address 0100007F:0CA8, state 0A).
function Test-LabListening { @([IO.File]::ReadAllLines('/proc/net/tcp') | Where-Object { $_ -match '^\s*\d+: 0100007F:0CA8 \S+ 0A ' }).Count -gt 0 }

# Cuts the connection one way with a netfilter rule, checks both kernels let go within the bound, lifts the rule and
# waits for the agent to attach again. $Match is the nft match of the packets dropped.
function Test-LabVanishedPeer([string] $Who, [string[]] $Match) {
    $inUse = @(Get-UsbIpPort -InUse)
    Assert-LabEqual 1 $inUse.Count "Get-UsbIpPort: one port in use before the $Who goes silent"
    if ($inUse.Count -ne 1) { return }
    $port = $inUse[0].Port
    Assert-LabEqual '2' (Read-LabFile $status) "kernel: $busId usbip_status is 2 (in use) before the $Who goes silent"

    $null = Invoke-LabTool nft add rule ip lab input @Match drop
    $cut = [Diagnostics.Stopwatch]::StartNew()
    $available = Wait-Lab { (Read-LabFile $status) -eq '1' } $bound
    $availableAfter = [int]$cut.Elapsed.TotalSeconds
    $freed = Wait-Lab { (Get-LabVhciPortStatus $port) -eq '004' } $bound
    $freedAfter = [int]$cut.Elapsed.TotalSeconds
    Assert-Lab $available "kernel: the $Who went silent; usbip-host made $busId available again (usbip_status 1) after $availableAfter s (timeout $timeout s, bound $bound s)"
    Assert-Lab $freed "kernel: the $Who went silent; vhci_hcd freed port $port (status 004) after $freedAfter s (timeout $timeout s, bound $bound s)"
    Assert-Lab (Wait-Lab { -not (Test-LabImported) } 20) "kernel: the dead import left the vhci_hcd bus"
    # What the kernels' readers said when the socket failed (ETIMEDOUT is -110).
    $dmesg = @(& dmesg 2>&1 | ForEach-Object { "$_" } | Where-Object { $_ -match 'usbip|vhci|stub' })
    for ($i = [Math]::Max(0, $dmesg.Count - 6); $i -lt $dmesg.Count; $i++) { Write-LabLine "    dmesg: $($dmesg[$i])" }

    $null = Invoke-LabTool nft flush chain ip lab input
    $back = [Diagnostics.Stopwatch]::StartNew()
    $again = Wait-Lab { (Test-LabImported) -and (Read-LabFile $status) -eq '2' } 75
    Assert-Lab $again "kernel: the rule lifted, the client agent attached $busId again by itself after $([int]$back.Elapsed.TotalSeconds) s (backoff bound 60 s)"
}

$server = $null; $client = $null
try {
    # The server starts first: its start-up under TCG overlaps the set-up below.
    $server = Start-LabVirtTools "usbipd --address 127.0.0.1 --port 3240 --dead-peer-timeout $timeout"
    $null = Invoke-LabTool nft add table ip lab
    $null = Invoke-LabTool nft add chain ip lab input '{ type filter hook input priority 0; }'
    Assert-Lab ($LASTEXITCODE -eq 0) 'nft: an input filter chain to cut connections with'
    if ($LASTEXITCODE -ne 0) { throw 'no netfilter: the peers cannot be silenced' }
    $null = Export-UsbIpDevice -BusId $busId -Confirm:$false
    Assert-LabEqual '1' (Read-LabFile $status) "kernel: $busId exported, usbip_status 1 (available)"
    # The server's first list, before the agent starts: a server just started under TCG can take longer than its own
    # 10 s request deadline over its first reply, and then closes the connection unanswered (reported to the lead, not
    # this scenario's subject). The first try warms it; a few more, bounded, get the list.
    Assert-Lab (Wait-Lab { Test-LabListening } 60) 'virttools usbipd listens on 127.0.0.1:3240'
    $listed = @()
    for ($try = 1; $try -le 4 -and $listed.Count -eq 0; $try++) {
        try { $listed = @(Get-UsbIpDevice -ComputerName 127.0.0.1 -TimeoutSec 30 | Where-Object { $_.BusId -eq $busId }) }
        catch { Write-LabLine "  list $try against the new server: $_" }
    }
    Assert-LabEqual 1 $listed.Count "virttools usbipd lists $busId"
    $client = Start-LabAgent /tmp/dead-peer-client.yaml "--dead-peer-timeout $timeout"
    Assert-Lab (Wait-Lab { (Test-LabImported) -and (Read-LabFile $status) -eq '2' } 60) 'kernel: the client agent attached the stick through virttools usbipd'

    Test-LabVanishedPeer 'client' 'tcp', 'dport', '3240'
    Test-LabVanishedPeer 'server' 'tcp', 'sport', '3240'
}
catch {
    Assert-Lab $false "stopped by an error: $_"
}
finally {
    Stop-LabAgent $client
    Stop-LabAgent $server
    $null = & nft delete table ip lab 2>&1
    Reset-LabUsbIp
    $restored = Wait-Lab { (Get-LabLinkName "/sys/bus/usb/devices/$busId/$($busId):1.0/driver") -eq 'usb-storage' } 10
    Assert-Lab $restored "kernel: $busId is back on usb-storage"
}
Complete-LabScenario
