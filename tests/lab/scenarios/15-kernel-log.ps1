# Kernel-log evidence: when the real kernel refuses an operation, the ErrorRecord quotes the lines the kernel logged
# about it meanwhile. A scripted USB/IP server on loopback offers a device whose speed code is 0 (UNKNOWN):
# Connect-UsbIpDevice imports it and writes it to vhci_hcd's attach file, which refuses it with EINVAL and a
# "Failed attach request for unsupported USB speed" line in the kernel log. The error must quote that line, read here
# independently with dmesg, and leave no port and no record behind.
. "$PSScriptRoot/_Lab.ps1"
Assert-LabCommand 'Connect-UsbIpDevice', 'Get-UsbIpPort'
Initialize-LabUsbIp

function Get-LabUnsupportedSpeedLines { @(& dmesg 2>&1 | ForEach-Object { "$_" } | Where-Object { $_ -match 'unsupported USB speed' }) }

# The server's side of one import, big-endian as on the wire: OP_REP_IMPORT (version 0x0111, code 0x0003, status 0)
# and the 312-byte device record of bus id 9-9 with speed 0; then it holds the connection until the client closes it.
$serve = {
    param($Listener)
    $client = $Listener.AcceptTcpClient()
    $stream = $client.GetStream()
    $stream.ReadTimeout = 60000
    $request = [byte[]]::new(40)
    $read = 0
    while ($read -lt 40) { $n = $stream.Read($request, $read, 40 - $read); if ($n -le 0) { break }; $read += $n }
    $reply = [byte[]]::new(8 + 312)
    $reply[0] = 0x01; $reply[1] = 0x11; $reply[3] = 0x03
    $path = [Text.Encoding]::ASCII.GetBytes('/sys/devices/pci0000:00/0000:00:1d.0/usb9/9-9')
    [Array]::Copy($path, 0, $reply, 8, $path.Length)
    $busId = [Text.Encoding]::ASCII.GetBytes('9-9')
    [Array]::Copy($busId, 0, $reply, 8 + 256, $busId.Length)
    $reply[8 + 288 + 3] = 9      # busnum
    $reply[8 + 292 + 3] = 2      # devnum
    # speed (8 + 296 .. 299) stays 0: USB_SPEED_UNKNOWN
    $reply[8 + 300] = 0x46; $reply[8 + 301] = 0xf4; $reply[8 + 303] = 0x01   # 46f4:0001
    $reply[8 + 309] = 1; $reply[8 + 310] = 1; $reply[8 + 311] = 1            # configuration 1 of 1, one interface
    $stream.Write($reply, 0, $reply.Length)
    try { $null = $stream.Read([byte[]]::new(1), 0, 1) } catch { }
    $client.Dispose()
}

$before = Get-LabUnsupportedSpeedLines
$recordsBefore = @(Get-LabVhciRecord)
$listener = [Net.Sockets.TcpListener]::new([Net.IPAddress]::Loopback, 0)
$listener.Start()
$server = [powershell]::Create().AddScript($serve).AddArgument($listener)
$serving = $server.BeginInvoke()
$failure = $null
try {
    try {
        $null = Connect-UsbIpDevice -ComputerName 127.0.0.1 -TcpPort $listener.LocalEndpoint.Port -BusId 9-9 -Confirm:$false -ErrorAction Stop
    }
    catch { $failure = $_ }
    Assert-Lab ($null -ne $failure) 'Connect-UsbIpDevice failed: vhci_hcd refused a device of speed UNKNOWN'
    Assert-LabEqual 'VhciAttachFailed' "$($failure.FullyQualifiedErrorId)".Split(',')[0] 'the error is VhciAttachFailed'
    $logged = @(Get-LabUnsupportedSpeedLines)
    $new = @($logged | Select-Object -Skip $before.Count)
    Assert-Lab ($new.Count -ge 1) "kernel: dmesg has a new line about it ($($new -join ' | '))"
    $said = "$($failure.Exception.Message)"
    Write-LabLine "  error: $said"
    Assert-Lab ($said -match 'The kernel said: ') 'the error quotes the kernel'
    $quoted = $new | Where-Object { $said.Contains(($_ -replace '^\[\s*[0-9.]+\]\s*', '')) }
    Assert-Lab (@($quoted).Count -ge 1) 'the quoted line is the one dmesg shows for this attach'
    Assert-LabEqual 0 @(Get-UsbIpPort -InUse).Count 'no vhci port is left in use'
    $added = @(Get-LabVhciRecord | Where-Object { $recordsBefore -notcontains $_ })
    Assert-LabEqual 0 $added.Count "no /run/vhci_hcd record is left by the refused attach ($($added -join ', '))"
}
finally {
    $listener.Stop()
    $null = $serving.AsyncWaitHandle.WaitOne(30000)
    $server.Dispose()
}
Complete-LabScenario
