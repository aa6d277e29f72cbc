# vhci_hcd full: Get-UsbIpCapacity -Desktops 400 against the kernel's own files, then every high-speed port of every
# controller taken, one attach more refused with VhciNoFreePort stating the kernel's numbers, and nothing left behind.
# usbip-host exports at most 16 devices at once (MAX_BUSID), against 120 ports of a speed on Debian's build, so the
# ports are taken as vhci_hcd's attach file allows any process to: "port sockfd devid speed" with one end of a TCP
# loopback connection per port (a device that never answers: the kernel holds the port until it is detached).
. "$PSScriptRoot/_Lab.ps1"
Assert-LabCommand 'Get-UsbIpCapacity', 'Export-UsbIpDevice', 'Start-UsbIpServer', 'Stop-UsbIpServer', 'Get-UsbIpDevice',
    'Connect-UsbIpDevice', 'Get-UsbIpPort', 'Remove-UsbIpExport'
Initialize-LabUsbIp
$recordsBefore = @(Get-LabVhciRecord)
$vhci0 = '/sys/devices/platform/vhci_hcd.0'
$keyboard = '1-1'

# ---- the plan, every number from the kernel's files
$nports = [int](Read-LabFile "$vhci0/nports")
$controllers = @([IO.Directory]::GetDirectories('/sys/devices/platform', 'vhci_hcd.*')).Count
$rows = @(Get-LabVhciRow)
$physical = @([IO.Directory]::GetFileSystemEntries('/sys/bus/usb/devices', 'usb*') |
    Where-Object { [IO.Path]::GetFileName($_) -match '^usb\d+$' -and (Get-LabRealPath $_) -notmatch '/vhci_hcd\.' }).Count
$plan = @(Get-UsbIpCapacity -Desktops 400)
Assert-LabEqual 'HighSpeed SuperSpeed' "$($plan.Hub)" 'Get-UsbIpCapacity: one object per speed'
foreach ($speed in $plan) {
    $hub = if ("$($speed.Hub)" -eq 'HighSpeed') { 'hs' } else { 'ss' }
    $ofHub = @($rows | Where-Object { $_[0] -eq $hub })
    Assert-LabEqual $controllers $speed.Controllers "$($speed.Hub): Controllers = the vhci_hcd.N directories"
    Assert-LabEqual $nports $speed.KernelPortCount "$($speed.Hub): KernelPortCount = vhci_hcd.0/nports"
    Assert-LabEqual $ofHub.Count $speed.Ports "$($speed.Hub): Ports = the '$hub' rows of the status files"
    Assert-LabEqual ($nports / 2 / $controllers) $speed.PortsPerController "$($speed.Hub): PortsPerController = nports / 2 / controllers"
    Assert-LabEqual @($ofHub | Where-Object { $_[2] -eq '004' }).Count $speed.Free "$($speed.Hub): Free = the rows with sta 004"
    Assert-LabEqual $physical $speed.PhysicalBuses "$($speed.Hub): PhysicalBuses = usbN not below a vhci_hcd"
    Assert-LabEqual ([math]::Floor((63 - $physical) / 2)) $speed.MaxControllers "$($speed.Hub): MaxControllers = (63 - physical buses) / 2"
    Assert-LabEqual (400 -le $ofHub.Count) $speed.CanHold "$($speed.Hub): CanHold says whether 400 fit in $($ofHub.Count) ports"
    Assert-LabEqual 27 $speed.Needs.Controllers "$($speed.Hub): 400 devices take 27 controllers of 15 ports ($($speed.Needs.Summary))"
    $configured = [IO.File]::Exists('/proc/config.gz') -or ([IO.Directory]::Exists('/boot') -and @([IO.Directory]::GetFiles('/boot', 'config-*')).Count -gt 0)
    if (-not $configured) { Assert-Lab ($null -eq $speed.ConfiguredControllers) "$($speed.Hub): no kernel configuration in the guest: ConfiguredControllers is empty" }
}

# ---- every high-speed port taken
$highFree = @($rows | Where-Object { $_[0] -eq 'hs' -and $_[2] -eq '004' } | ForEach-Object { [int]$_[1] })
$listener = [Net.Sockets.TcpListener]::new([Net.IPAddress]::Loopback, 0)
$listener.Start()
$sockets = [Collections.Generic.List[object]]::new()
$taken = [Collections.Generic.List[int]]::new()
$server = $null
try {
    foreach ($port in $highFree) {
        $client = [Net.Sockets.TcpClient]::new()
        $client.Connect([Net.IPAddress]::Loopback, $listener.LocalEndpoint.Port)
        $sockets.Add($client)
        $sockets.Add($listener.AcceptTcpClient())
        $fd = $client.Client.Handle.ToInt32()
        Write-LabFile "$vhci0/attach" "$port $fd $(0x00630000 + $port + 1) 2"
        $taken.Add($port)
    }
    Assert-LabEqual $highFree.Count $taken.Count "kernel: vhci_hcd took an attach on each of the $($highFree.Count) free high-speed ports"
    $full = Wait-Lab { @(Get-LabVhciRow | Where-Object { $_[0] -eq 'hs' -and $_[2] -eq '004' }).Count -eq 0 } 30
    Assert-Lab $full 'kernel: no high-speed row of the status files is free (004)'
    $high = @(Get-UsbIpCapacity) | Where-Object { "$($_.Hub)" -eq 'HighSpeed' }
    Assert-LabEqual 0 $high.Free 'Get-UsbIpCapacity: no high-speed port free'

    # One attach more: the keyboard (full speed, so the high-speed hub), over loopback from our own server.
    $null = Export-UsbIpDevice -BusId $keyboard -Confirm:$false
    $server = Start-UsbIpServer -Address 127.0.0.1 -TcpPort 3240
    $refused = $null
    try { $null = Get-UsbIpDevice -ComputerName 127.0.0.1 | Where-Object BusId -eq $keyboard | Connect-UsbIpDevice -Confirm:$false }
    catch { $refused = $_ }
    Assert-Lab ($null -ne $refused) 'Connect-UsbIpDevice of one device more is refused'
    if ($refused) {
        Write-LabLine "  $($refused.FullyQualifiedErrorId): $($refused.Exception.Message)"
        Assert-Lab ("$($refused.FullyQualifiedErrorId)" -like 'VhciNoFreePort,*') 'the error is VhciNoFreePort'
        $hsRows = @($rows | Where-Object { $_[0] -eq 'hs' }).Count
        Assert-Lab ($refused.Exception.Message -like "*all $hsRows are in use ($controllers controllers × $($nports / 2 / $controllers) high-speed*") "it states the kernel's numbers: $hsRows ports, $controllers controllers"
    }
    # The refused import closed its connection: usbip-host gives the keyboard back to "available".
    Assert-Lab (Wait-Lab { (Read-LabFile "/sys/bus/usb/devices/$keyboard/usbip_status") -eq '1' } 20) "kernel: $keyboard usbip_status is 1 again (no import left half-done)"
    Assert-LabEqual 0 @(Get-LabImportedUsbDevice | Where-Object { (Read-LabFile "/sys/bus/usb/devices/$_/idProduct") -eq '0001' }).Count 'kernel: the keyboard did not appear on a vhci_hcd bus'
}
catch {
    Assert-Lab $false "stopped by an error: $_"
}
finally {
    if ($server) { Stop-UsbIpServer -InputObject $server -ErrorAction SilentlyContinue }
    foreach ($port in $taken) { try { Write-LabFile "$vhci0/detach" "$port" } catch { Write-LabLine "  detach $port`: $_" } }
    foreach ($socket in $sockets) { $socket.Dispose() }
    $listener.Stop()
    if ((Get-LabLinkName "/sys/bus/usb/devices/$keyboard/driver") -eq 'usbip-host') { $null = Remove-UsbIpExport -BusId $keyboard -Confirm:$false -Force }
}

# ---- nothing left behind
Assert-Lab (Wait-Lab { @(Get-LabVhciRow | Where-Object { $_[2] -ne '004' }).Count -eq 0 } 60) 'kernel: every port is free again (004)'
Assert-Lab (Wait-Lab { @(Get-LabImportedUsbDevice).Count -eq 0 } 60) 'kernel: no USB device left on a vhci_hcd bus (the half-enumerated ones removed)'
Assert-LabEqual $nports @(Get-UsbIpPort -Free).Count 'Get-UsbIpPort -Free counts every port'
$added = @(Get-LabVhciRecord | Where-Object { $recordsBefore -notcontains $_ })
Assert-LabEqual 0 $added.Count "no attach record left in /run/vhci_hcd by this scenario ($($added -join ', '))"
Assert-Lab (Wait-Lab { (Get-LabLinkName "/sys/bus/usb/devices/$keyboard/$keyboard`:1.0/driver") -eq 'usbhid' } 15) 'kernel: the keyboard is back on usbhid'
Complete-LabScenario
