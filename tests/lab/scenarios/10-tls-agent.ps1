# The agent keeps a TLS attachment on a real kernel: a client `virttools agent` whose profile attachment carries tls:
# (certificate, key, serverCa) and reconnect: true attaches the stick from `virttools usbipd --require-tls` with a
# grant for its certificate alone. The server is killed: both relays end, the kernel frees the export and the port.
# Started again, the server gets the stick back from the agent, over TLS (it serves nothing else), by itself.
# On a loaded TCG guest the first attach, the server's restart and the agent's backoff (up to 60 s) together took
# more than the default 300 s:
# lab-timeout: 600
. "$PSScriptRoot/_Lab.ps1"
Assert-LabCommand 'Export-UsbIpDevice', 'Get-UsbIpDevice', 'Get-UsbIpExport', 'Remove-UsbIpExport'
$busId = $script:LabSharedBusId
$sysfs = "/sys/bus/usb/devices/$busId"
$folder = '/tmp/lab-tls-agent'

# Waits until the server answers a TLS listing (its first handshakes are slow on a loaded TCG guest), so the agent's
# bound counts its own work, not the server's start.
function Wait-LabTlsServer([string] $What) {
    $desk = @{ UseTls = $true; ServerCaPath = "$folder/lab-ca.crt"; CertificatePath = "$folder/desk.lab.crt"; KeyPath = "$folder/desk.lab.key"; TimeoutSec = 60 }
    $up = Wait-Lab { @(Get-UsbIpDevice -ComputerName 127.0.0.1 @desk -ErrorAction SilentlyContinue).Count -eq 1 } 90
    Assert-Lab $up "$What lists the stick to desk.lab over TLS"
}

function Test-LabHeldByDesk([string] $When) {
    $holder = "$(@(Get-UsbIpExport -BusId $busId)[0].ClientIdentity)"
    Assert-Lab ($holder -match 'desk\.lab') "Get-UsbIpExport: $When, the client holding $busId is the desk.lab certificate ($holder)"
}

Initialize-LabUsbIp
Reset-LabUsbIp # a scenario killed at its time limit leaves the stick attached or exported
$daemon = $null
$agent = $null
try {
    New-LabCertificateSet $folder
    [IO.File]::WriteAllText("$folder/client.yaml", @"
usbip:
  attachments:
    - computerName: 127.0.0.1
      tcpPort: 3240
      match: { vendorId: "46f4", productId: "0001" }
      reconnect: true
      tls: { certificate: "$folder/desk.lab.crt", key: "$folder/desk.lab.key", serverCa: "$folder/lab-ca.crt" }
"@)
    $null = Export-UsbIpDevice -BusId $busId -Confirm:$false
    $daemon = Start-LabVirtTools (Get-LabTlsServerArguments $folder)
    Wait-LabTlsServer 'virttools usbipd --require-tls'
    $agent = Start-LabAgent "$folder/client.yaml"
    $null = Assert-LabSharedDeviceImported 'the client agent attached it over TLS' 90
    Assert-Lab (Wait-Lab { (Read-LabFile "$sysfs/usbip_status") -eq '2' } 30) "kernel: $busId is in use, through the server's relay"
    Test-LabHeldByDesk 'after the first attach'

    # The server dies: its relay ends, so usbip-host reads EOF, and the agent's relay sees the TCP connection close.
    $daemon.Kill(); $null = $daemon.WaitForExit(5000)
    Assert-Lab (Wait-Lab { -not (Test-LabImported) } 30) 'kernel: with the server killed the TLS import left the vhci_hcd bus'
    Assert-Lab (Wait-Lab { (Read-LabFile "$sysfs/usbip_status") -eq '1' } 30) "kernel: with the server killed $busId is available again"

    $daemon = Start-LabVirtTools (Get-LabTlsServerArguments $folder)
    Wait-LabTlsServer 'the restarted server'
    $restarted = [DateTime]::UtcNow
    $back = Wait-Lab { (Test-LabImported) -and (Read-LabFile "$sysfs/usbip_status") -eq '2' } 150
    Assert-Lab $back "kernel: the agent attached the stick again by itself, over TLS, $([int]([DateTime]::UtcNow - $restarted).TotalSeconds) s after the restarted server answered (bound 150 s: the agent's backoff of up to 60 s, the attach)"
    Test-LabHeldByDesk 'after the re-attach'
}
catch {
    Assert-Lab $false "stopped by an error: $_"
}
finally {
    Stop-LabAgent $agent
    if ($daemon -and -not $daemon.HasExited) { $daemon.Kill(); $null = $daemon.WaitForExit(5000) }
    Reset-LabUsbIp
    if ((Get-LabLinkName "$sysfs/driver") -eq 'usbip-host') { Remove-UsbIpExport -BusId $busId -Force -Confirm:$false -ErrorAction SilentlyContinue }
}
Complete-LabScenario
