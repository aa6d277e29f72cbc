# Devices given to LXC containers, in real pwsh on a copy of the captured 6.1 tree: the port's Container from its
# /run/vhci_hcd record, -Container on Get-UsbIpPort, and the refusals that come before anything is imported (a tree
# under -Root has no containers). Giving a device to a real container is shown in the lab (scenario 12).
BeforeAll {
    . "$PSScriptRoot/Common.ps1"
    Import-Module $ModuleManifest -Force
    $root = New-FixtureCopy
    $record = "127.0.0.1 3240 2-3`ncontainer desk042 4242`nnode /dev/bus/usb/004/002 c 189 385`nnode /dev/sda b 8 0`n"
    New-Item -ItemType Directory "$root/run/vhci_hcd" | Out-Null
    [IO.File]::WriteAllText("$root/run/vhci_hcd/port15", $record)
}
AfterAll { Remove-FixtureCopy $root }

Describe 'Get-UsbIpPort -Container' {
    It 'shows the container, its process and the nodes it was given on the port the record names' {
        $port = Get-UsbIpPort -Root $root -InUse
        $port.Container | Should -Be 'desk042'
        $port.ContainerProcessId | Should -Be 4242
        $port.ContainerNodes | Should -Be @('/dev/bus/usb/004/002', '/dev/sda')
    }

    It 'lists only the ports of the containers named, wildcards allowed' {
        (Get-UsbIpPort -Root $root -Container desk042).Port | Should -Be 15
        (Get-UsbIpPort -Root $root -Container 'desk*').Port | Should -Be 15
        Get-UsbIpPort -Root $root -Container desk043 | Should -BeNullOrEmpty
    }

    It 'shows the container in the default table' {
        Get-UsbIpPort -Root $root -InUse | Out-String -Width 200 | Should -Match '(?m)^vhci_hcd\.0\s+SuperSpeed\s+15\s+InUse\s+5000\s+4-1\s+desk042\s+127\.0\.0\.1:3240/2-3\s*$'
    }
}

Describe 'Connect-UsbIpDevice -Container' {
    It 'has -Container and -DedicatedController in a parameter set of their own' {
        $sets = (Get-Command Connect-UsbIpDevice).ParameterSets
        ($sets | Where-Object Name -eq 'Container').Parameters.Name | Should -Contain 'DedicatedController'
        ($sets | Where-Object Name -eq 'Host').Parameters.Name | Should -Not -Contain 'Container'
    }

    It 'names the container under -WhatIf and writes nothing' {
        $before = Get-TreeState $root
        Connect-UsbIpDevice -Root $root 127.0.0.1 2-3 -Container deskB -WhatIf
        Compare-Object $before (Get-TreeState $root) | Should -BeNullOrEmpty
    }

    It 'refuses under -Root with ContainerLiveSystemOnly, before the server is asked' {
        # Nothing listens on port 1 of loopback: had the client connected, the error would be UsbIpServerUnreachable.
        { Connect-UsbIpDevice -Root $root 127.0.0.1 2-3 -TcpPort 1 -Container deskB -Confirm:$false -ErrorAction Stop } |
            Should -Throw -ErrorId 'ContainerLiveSystemOnly,VirtTools.Commands.UsbIp.ConnectUsbIpDeviceCommand'
    }

    It 'refuses a name LXC tools could misread with ContainerInvalidName' {
        { Connect-UsbIpDevice -Root $root 127.0.0.1 2-3 -TcpPort 1 -Container '-rf' -Confirm:$false -ErrorAction Stop } |
            Should -Throw -ErrorId 'ContainerInvalidName,VirtTools.Commands.UsbIp.ConnectUsbIpDeviceCommand'
    }
}

Describe 'Disconnect-UsbIpDevice of a container''s port' {
    It 'names the container under -WhatIf and writes nothing' {
        $before = Get-TreeState $root
        Get-UsbIpPort -Root $root -Container desk042 | Disconnect-UsbIpDevice -WhatIf
        Compare-Object $before (Get-TreeState $root) | Should -BeNullOrEmpty
    }

    It 'leaves the port attached under -Root (ContainerLiveSystemOnly): its nodes cannot be taken back there' {
        { Disconnect-UsbIpDevice -Root $root -Port 15 -Confirm:$false -ErrorAction Stop } |
            Should -Throw -ErrorId 'ContainerLiveSystemOnly,VirtTools.Commands.UsbIp.DisconnectUsbIpDeviceCommand'
        (Get-UsbIpPort -Root $root -Port 15).Container | Should -Be 'desk042'
    }
}
