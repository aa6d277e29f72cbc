# Devices given to one LXC container (issue 16): Debian's LXC 5.0 on a pure cgroup2 hierarchy, three busybox
# containers, the stick exported and imported over 127.0.0.1 with Connect-UsbIpDevice -Container lxcB. The kernel's
# and the containers' view is checked directly: B reads a block of the disk, A and C have neither node (also seen
# from the host through /proc/<init>/root), and B's device cgroup allows the disk's number while it holds it (mknod
# succeeds) and denies it after Disconnect-UsbIpDevice (mknod: Operation not permitted), as A's does throughout.
. "$PSScriptRoot/_Lab.ps1"
Assert-LabCommand 'Export-UsbIpDevice', 'Start-UsbIpServer', 'Stop-UsbIpServer', 'Connect-UsbIpDevice', 'Get-UsbIpPort',
    'Disconnect-UsbIpDevice', 'Remove-UsbIpExport'
$busId = $script:LabSharedBusId
$names = 'lxcA', 'lxcB', 'lxcC'

# The device rules every container starts with: deny all, allow the basic nodes; so the first lxc-device add does not
# turn an empty list into an allow-list of that one device (LXC's default list type), locking out /dev/null.
$rules = @('lxc.cgroup2.devices.deny = a') + @('c 1:3', 'c 1:5', 'c 1:7', 'c 1:8', 'c 1:9', 'c 5:0', 'c 5:1', 'c 5:2', 'c 136:*' |
    ForEach-Object { "lxc.cgroup2.devices.allow = $_ rwm" })

function New-LabContainer([string] $Name) {
    $dir = "/var/lib/lxc/$Name"
    foreach ($sub in 'rootfs/bin', 'rootfs/dev', 'rootfs/proc', 'rootfs/sys', 'rootfs/tmp') { $null = [IO.Directory]::CreateDirectory("$dir/$sub") }
    [IO.File]::Copy('/bin/busybox', "$dir/rootfs/bin/busybox", $true)
    [IO.File]::WriteAllLines("$dir/config", [string[]] @(
        "lxc.uts.name = $Name", "lxc.rootfs.path = dir:$dir/rootfs", 'lxc.net.0.type = empty', 'lxc.autodev = 1',
        'lxc.tty.max = 0', 'lxc.console.path = none', 'lxc.mount.auto = proc:mixed sys:ro', 'lxc.apparmor.profile = unconfined',
        'lxc.init.cmd = /bin/busybox sleep 100000', 'lxc.include = /var/lib/lxc/devices.conf'))
}

# Runs busybox inside a container: its exit code in $LASTEXITCODE, its output lines returned.
function Invoke-InContainer([string] $Name, [string] $Command) {
    return Invoke-LabTool lxc-attach -n $Name -- /bin/busybox sh -c $Command
}

function Get-InitPid([string] $Name) { return "$(@(& lxc-info -n $Name -p -H 2>$null) | Select-Object -First 1)".Trim() }

Initialize-LabUsbIp
$server = $null
try {
    [IO.File]::WriteAllLines('/var/lib/lxc/devices.conf', [string[]] $rules)
    foreach ($name in $names) {
        New-LabContainer $name
        $null = Invoke-LabTool lxc-start -n $name -l DEBUG -o "/tmp/lxc-$name.log"
        $running = Wait-Lab { "$(@(& lxc-info -n $name -s -H 2>$null))".Trim() -eq 'RUNNING' } 30
        Assert-Lab $running "lxc: container $name runs"
        if (-not $running -and [IO.File]::Exists("/tmp/lxc-$name.log")) {
            foreach ($line in [IO.File]::ReadAllLines("/tmp/lxc-$name.log") | Select-Object -Last 30) { Write-LabLine "    $line" }
        }
    }

    $null = Invoke-LabTool lxc-info -n lxcB -s -p -H
    $null = Export-UsbIpDevice -BusId $busId -Confirm:$false
    $server = Start-UsbIpServer -Address 127.0.0.1 -TcpPort 3240
    $port = Connect-UsbIpDevice -ComputerName 127.0.0.1 -BusId $busId -Container lxcB -Confirm:$false
    Assert-Lab ($null -ne $port) "Connect-UsbIpDevice -Container lxcB returned port $($port.Port)"
    $null = Assert-LabSharedDeviceImported 'Connect-UsbIpDevice -Container lxcB'
    Assert-LabEqual 'lxcB' $port.Container 'the port names container lxcB'
    Assert-LabEqual (Get-InitPid lxcB) "$($port.ContainerProcessId)" "the port's owner is lxcB's init (lxc-info -p)"
    $usbNode = @($port.ContainerNodes | Where-Object { $_ -like '/dev/bus/usb/*' })
    $disk = @($port.ContainerNodes | Where-Object { $_ -match '^/dev/sd[a-z]+$' }) | Select-Object -First 1
    Assert-LabEqual 1 $usbNode.Count "lxcB got the device's USB node ($($port.ContainerNodes -join ' '))"
    Assert-Lab ($null -ne $disk) "lxcB got the device's disk ($($port.ContainerNodes -join ' '))"
    Assert-LabEqual 'lxcB' (@(Get-UsbIpPort -Container lxcB).Container) 'Get-UsbIpPort -Container lxcB lists the port'
    Assert-LabEqual 0 @(Get-UsbIpPort -Container lxcA).Count 'Get-UsbIpPort -Container lxcA lists nothing'

    if ($disk) {
        $number = (Read-LabFile "/sys/class/block/$([IO.Path]::GetFileName($disk))/dev") -split ':'
        $output = Invoke-InContainer lxcB "dd if=$disk of=/dev/null bs=512 count=1"
        Assert-LabEqual 0 $LASTEXITCODE "lxcB reads a block of $disk"
        Assert-Lab (@($output | Where-Object { $_ -match '^1\+0 records in' }).Count -eq 1) 'dd inside lxcB read one whole block'
        $null = Invoke-InContainer lxcB 'echo x > /dev/null'
        Assert-LabEqual 0 $LASTEXITCODE "lxcB still writes /dev/null (the basic nodes stay allowed)"
        $null = Invoke-InContainer lxcB "mknod /tmp/probe b $($number[0]) $($number[1]) && rm /tmp/probe"
        Assert-LabEqual 0 $LASTEXITCODE "lxcB's device cgroup allows b $($number -join ':') (mknod)"
        foreach ($other in 'lxcA', 'lxcC') {
            $null = Invoke-InContainer $other "test -e $disk || test -e $($usbNode[0])"
            Assert-LabEqual 1 $LASTEXITCODE "$other has neither $disk nor $($usbNode[0])"
            $init = Get-InitPid $other
            Assert-Lab (-not [IO.File]::Exists("/proc/$init/root$disk")) "host view: /proc/$init/root$disk ($other) does not exist"
        }
        $output = Invoke-InContainer lxcA "mknod /tmp/probe b $($number[0]) $($number[1])"
        Assert-Lab ($LASTEXITCODE -ne 0 -and "$output" -match 'not permitted') "lxcA's device cgroup denies b $($number -join ':')"
    }

    Disconnect-UsbIpDevice -Port $port.Port -Confirm:$false
    Assert-Lab (Wait-Lab { @(Get-LabImportedUsbDevice).Count -eq 0 } 10) 'kernel: the import left the vhci_hcd bus'
    if ($disk) {
        $null = Invoke-InContainer lxcB "test -e $disk || test -e $($usbNode[0])"
        Assert-LabEqual 1 $LASTEXITCODE "after detach lxcB has neither $disk nor $($usbNode[0])"
        $output = Invoke-InContainer lxcB "mknod /tmp/probe b $($number[0]) $($number[1])"
        Assert-Lab ($LASTEXITCODE -ne 0 -and "$output" -match 'not permitted') "after detach lxcB's device cgroup denies b $($number -join ':') again"
    }
    Assert-LabEqual 0 @(Get-UsbIpPort -Container lxcB).Count 'Get-UsbIpPort -Container lxcB lists nothing after detach'
}
catch {
    Assert-Lab $false "$($_.FullyQualifiedErrorId): $_ $($_.ErrorDetails.RecommendedAction)"
}
finally {
    if ($server) { Stop-UsbIpServer -InputObject $server -ErrorAction SilentlyContinue }
    foreach ($name in $names) { $null = & lxc-stop -n $name -k 2>&1 }
    if ((Get-LabLinkName "/sys/bus/usb/devices/$busId/driver") -eq 'usbip-host') { Remove-UsbIpExport -BusId $busId -Confirm:$false -ErrorAction SilentlyContinue }
    Reset-LabUsbIp
}
Complete-LabScenario
