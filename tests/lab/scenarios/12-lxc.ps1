# Devices given to one LXC container (issue 16): Debian's LXC 5.0 on a pure cgroup2 hierarchy, three busybox
# containers, the stick exported and imported over 127.0.0.1 with Connect-UsbIpDevice -Container lxcB. The kernel's
# and the containers' view is checked directly: B reads a block of the disk, A and C have neither node (also seen
# from the host through /proc/<init>/root), and B's device cgroup allows the disk's number while it holds it (mknod
# succeeds) and denies it after Disconnect-UsbIpDevice (mknod: Operation not permitted), as A's does throughout.
# Then, with `virttools agent` running, what B holds is kept true with nobody acting: its disk deleted and found
# again by a rescan (a node that appears late) is taken back and given again, and when the device goes away on the
# server's side its nodes and device-cgroup allowance are gone from B within a bounded wait.
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

# Runs a busybox shell script inside a container; its output lines returned, lxc-attach's exit code in $LASTEXITCODE.
# The script is a file in the container's rootfs, so no argument of it can be taken for one of lxc-attach's options.
function Invoke-InContainer([string] $Name, [string] $Script) {
    [IO.File]::WriteAllText("/var/lib/lxc/$Name/rootfs/probe.sh", $Script + "`n")
    return Invoke-LabTool lxc-attach -n $Name '--' /bin/busybox sh /probe.sh
}

# 'ABSENT' when neither node exists inside the container, 'PRESENT' otherwise (so a failed attach is no pass).
function Test-InContainer([string] $Name, [string[]] $Path) {
    $tests = ($Path | ForEach-Object { "[ -e $_ ]" }) -join ' || '
    return "$(Invoke-InContainer $Name "if $tests; then echo PRESENT; else echo ABSENT; fi")"
}

# 'ALLOWED' when mknod of the number succeeds inside the container; 'DENIED <why>' otherwise.
function Test-Mknod([string] $Name, [string[]] $Number) {
    return "$(Invoke-InContainer $Name "mknod /tmp/probe b $($Number[0]) $($Number[1]) 2>&1 && rm /tmp/probe && echo ALLOWED || echo DENIED")"
}

function Get-InitPid([string] $Name) { return ("$(@(& lxc-info -n $Name -p 2>$null) | Select-Object -First 1)" -replace '^PID:\s*', '').Trim() }

Initialize-LabUsbIp
$server = $null; $agent = $null
try {
    [IO.File]::WriteAllLines('/var/lib/lxc/devices.conf', [string[]] $rules)
    foreach ($name in $names) {
        New-LabContainer $name
        $null = Invoke-LabTool lxc-start -n $name -l DEBUG -o "/tmp/lxc-$name.log"
        $running = Wait-Lab { "$(@(& lxc-info -n $name -s 2>$null))" -match 'RUNNING' } 30
        Assert-Lab $running "lxc: container $name runs"
        if (-not $running -and [IO.File]::Exists("/tmp/lxc-$name.log")) {
            foreach ($line in [IO.File]::ReadAllLines("/tmp/lxc-$name.log") | Select-Object -Last 30) { Write-LabLine "    $line" }
        }
    }

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
        $output = Invoke-InContainer lxcB "dd if=$disk of=/dev/null bs=512 count=1 2>&1 && echo READ"
        Assert-Lab ("$output" -match '1\+0 records in' -and "$output" -match 'READ') "lxcB reads a block of $disk (dd: one whole block)"
        $output = Invoke-InContainer lxcB 'echo x > /dev/null && echo WROTE'
        Assert-Lab ("$output" -match 'WROTE') 'lxcB still writes /dev/null (the basic nodes stay allowed)'
        $allowed = Test-Mknod lxcB $number
        Assert-Lab ($allowed -match 'ALLOWED' -and $allowed -notmatch 'DENIED') "lxcB's device cgroup allows b $($number -join ':') (mknod: $allowed)"
        foreach ($other in 'lxcA', 'lxcC') {
            $seen = Test-InContainer $other $disk, $usbNode[0]
            Assert-Lab ($seen -match 'ABSENT' -and $seen -notmatch 'PRESENT') "$other has neither $disk nor $($usbNode[0]) ($seen)"
            $init = Get-InitPid $other
            Assert-Lab ($init -match '^\d+$' -and -not [IO.File]::Exists("/proc/$init/root$disk")) "host view: /proc/$init/root$disk ($other) does not exist"
        }
        $denied = Test-Mknod lxcA $number
        Assert-Lab ($denied -match 'DENIED' -and $denied -match 'not permitted') "lxcA's device cgroup denies b $($number -join ':') ($denied)"
    }

    Disconnect-UsbIpDevice -Port $port.Port -Confirm:$false
    Assert-Lab (Wait-Lab { @(Get-LabImportedUsbDevice).Count -eq 0 } 10) 'kernel: the import left the vhci_hcd bus'
    if ($disk) {
        $seen = Test-InContainer lxcB $disk, $usbNode[0]
        Assert-Lab ($seen -match 'ABSENT' -and $seen -notmatch 'PRESENT') "after detach lxcB has neither $disk nor $($usbNode[0]) ($seen)"
        $denied = Test-Mknod lxcB $number
        Assert-Lab ($denied -match 'DENIED' -and $denied -match 'not permitted') "after detach lxcB's device cgroup denies b $($number -join ':') again ($denied)"
    }
    Assert-LabEqual 0 @(Get-UsbIpPort -Container lxcB).Count 'Get-UsbIpPort -Container lxcB lists nothing after detach'

    # The agent keeps what lxcB was given true by itself: a disk that goes and comes back after the attach (the
    # SCSI layer deletes it, a rescan finds it again: a node that appears late) and then the device going away on the
    # server's side (its export removed, which ends the link): taken back with no Disconnect-UsbIpDevice, though the
    # host's nodes are gone by then.
    [IO.File]::WriteAllText('/tmp/lxc-agent.yaml', "ksm: { pagesToScan: 100 }`n")
    $agent = Start-LabAgent /tmp/lxc-agent.yaml
    $port = Connect-UsbIpDevice -ComputerName 127.0.0.1 -BusId $busId -Container lxcB -Confirm:$false
    $usbNode = @($port.ContainerNodes | Where-Object { $_ -like '/dev/bus/usb/*' })
    $disk = @($port.ContainerNodes | Where-Object { $_ -match '^/dev/sd[a-z]+$' }) | Select-Object -First 1
    Assert-Lab ($usbNode.Count -eq 1 -and $null -ne $disk) "attached into lxcB again with the agent running ($($port.ContainerNodes -join ' '))"
    $ledger = "/run/virttools/container-grants/port$($port.Port)@lxcB"
    Assert-Lab ([IO.File]::Exists($ledger)) "the grant is recorded in $ledger"
    if ($disk) {
        $name = [IO.Path]::GetFileName($disk)
        $scsiHost = [regex]::Match("$(Get-LabRealPath "/sys/class/block/$name")", '/(host\d+)/').Groups[1].Value
        Write-LabFile "/sys/class/block/$name/device/delete" '1'
        Assert-Lab (Wait-Lab { (Test-InContainer lxcB $disk) -match 'ABSENT' } 30) "the agent took $disk back from lxcB once the SCSI layer deleted it"
        Write-LabFile "/sys/class/scsi_host/$scsiHost/scan" '- - -'
        $again = $null
        $found = Wait-Lab {
            $script:again = @(Get-UsbIpPort -Container lxcB | ForEach-Object ContainerNodes | Where-Object { $_ -match '^/dev/sd[a-z]+$' }) | Select-Object -First 1
            $script:again -and (Test-InContainer lxcB $script:again) -match 'PRESENT'
        } 60
        $again = $script:again
        Assert-Lab $found "the agent gave lxcB the disk the rescan found late ($again, via $scsiHost)"
        if ($found) {
            $output = Invoke-InContainer lxcB "dd if=$again of=/dev/null bs=512 count=1 2>&1 && echo READ"
            Assert-Lab ("$output" -match '1\+0 records in' -and "$output" -match 'READ') "lxcB reads a block of the late disk $again"
            $disk = $again
        }
        $number = (Read-LabFile "/sys/class/block/$([IO.Path]::GetFileName($disk))/dev") -split ':'

        $gone = [DateTime]::UtcNow
        Remove-UsbIpExport -BusId $busId -Force -Confirm:$false
        Assert-Lab (Wait-Lab { @(Get-LabImportedUsbDevice).Count -eq 0 } 20) 'kernel: with the export removed on the server side the import left the vhci_hcd bus'
        $taken = Wait-Lab { (Test-InContainer lxcB $disk, $usbNode[0]) -match 'ABSENT' -and -not [IO.File]::Exists($ledger) } 30
        Assert-Lab $taken "the agent took $disk and $($usbNode[0]) back from lxcB $([int]([DateTime]::UtcNow - $gone).TotalSeconds) s after the device went away (bound 30 s)"
        $denied = Test-Mknod lxcB $number
        Assert-Lab ($denied -match 'DENIED' -and $denied -match 'not permitted') "after the device went away lxcB's device cgroup denies b $($number -join ':') again ($denied)"
    }
    Stop-LabAgent $agent; $agent = $null
}
catch {
    Assert-Lab $false "$($_.FullyQualifiedErrorId): $_ $($_.ErrorDetails.RecommendedAction)"
}
finally {
    Stop-LabAgent $agent
    if ($server) { Stop-UsbIpServer -InputObject $server -ErrorAction SilentlyContinue }
    foreach ($name in $names) { $null = & lxc-stop -n $name -k 2>&1 }
    if ((Get-LabLinkName "/sys/bus/usb/devices/$busId/driver") -eq 'usbip-host') { Remove-UsbIpExport -BusId $busId -Force -Confirm:$false -ErrorAction SilentlyContinue }
    Reset-LabUsbIp
}
Complete-LabScenario
