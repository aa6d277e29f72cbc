# USB/IP over the network, on loopback only: a server in this session serves a copy of the captured 6.1 tree, the
# client cmdlets list and (with -WhatIf) import from it, and the vhci_hcd ports are read and (with -WhatIf) detached.
BeforeAll {
    . "$PSScriptRoot/Common.ps1"
    Import-Module $ModuleManifest -Force
    $root = New-FixtureCopy
    $stickStatus = "$root/sys/bus/usb/devices/2-3/usbip_status"
}
AfterAll { Remove-FixtureCopy $root }

Describe 'Start-UsbIpServer on 127.0.0.1, listed by Get-UsbIpDevice' {
    BeforeAll { $server = Start-UsbIpServer -Root $root -Address 127.0.0.1 -TcpPort 0 }
    AfterAll { $server | Stop-UsbIpServer }

    It 'listens on the free port -TcpPort 0 picked, and reports it' {
        $server.IsRunning | Should -BeTrue
        $server.Address | Should -Be ([ipaddress] '127.0.0.1')
        $server.TcpPort | Should -BeGreaterThan 0
    }

    It 'accepts only loopback clients when -AllowedClient is not given' {
        "$($server.AllowedClient)" | Should -Be '127.0.0.0/8 ::1/128'
    }

    It 'does not offer a device a client holds (usbip_status 2), as usbipd does' {
        Get-Content $stickStatus | Should -Be '2'
        Get-UsbIpDevice -Root $root -ComputerName 127.0.0.1 -TcpPort $server.TcpPort | Should -BeNullOrEmpty
    }

    Context 'once the client has let go of the stick (usbip_status 1)' {
        BeforeAll {
            Set-Content $stickStatus 1
            $devices = @(Get-UsbIpDevice -Root $root -ComputerName 127.0.0.1 -TcpPort $server.TcpPort)
        }
        AfterAll { Set-Content $stickStatus 2 }

        It 'lists it with its ids, speed and mass-storage interface' {
            $devices | Should -HaveCount 1
            $devices[0].BusId | Should -Be '2-3'
            "$($devices[0].VendorId):$($devices[0].ProductId)" | Should -Be '46f4:0001'
            $devices[0].SpeedMbps | Should -Be 5000
            $devices[0].Interfaces[0].Class | Should -Be '08'
        }

        It 'takes the computer name from the pipeline by value' {
            ('127.0.0.1' | Get-UsbIpDevice -Root $root -TcpPort $server.TcpPort).BusId | Should -Be '2-3'
        }

        It 'counts every client connection' {
            $seen = $server.Connections
            Get-UsbIpDevice -Root $root -ComputerName 127.0.0.1 -TcpPort $server.TcpPort | Out-Null
            $server.Connections | Should -Be ($seen + 1)
        }

        It 'pipes into Connect-UsbIpDevice -WhatIf, which neither contacts the server nor attaches anything' {
            $seen = $server.Connections
            $before = Get-TreeState $root
            $devices | Connect-UsbIpDevice -Root $root -WhatIf | Should -BeNullOrEmpty
            $server.Connections | Should -Be $seen
            $server.Imports | Should -Be 0
            Compare-Object $before (Get-TreeState $root) | Should -BeNullOrEmpty
        }

        It 'declares UsbIpRemoteDevice as its output type, and writes one' {
            (Get-Command Get-UsbIpDevice).OutputType.Type | Should -Be ([VirtTools.UsbIp.Client.UsbIpRemoteDevice])
            $devices[0] | Should -BeOfType ([VirtTools.UsbIp.Client.UsbIpRemoteDevice])
        }

        It 'shows the default table with its column headers' {
            $devices | Out-String -Width 200 | Should -Match '(?m)^ComputerName\s+TcpPort\s+BusId\s+VID:PID\s+SpeedMbps\s+Device\s*$'
        }
    }

    It 'declares UsbIpServer as its output type, and writes one' {
        (Get-Command Start-UsbIpServer).OutputType.Type | Should -Be ([VirtTools.UsbIp.Server.UsbIpServer])
        $server | Should -BeOfType ([VirtTools.UsbIp.Server.UsbIpServer])
    }

    It 'shows the server in its default table' {
        $server | Out-String -Width 200 |
            Should -Match '(?m)^Address\s+TcpPort\s+AllowedClient\s+StartTime\s+Connections\s+Imports\s+Running\s*$'
    }
}

Describe 'Start-UsbIpServer refusals' {
    It 'refuses an -Address that is not an IP address, with the address as target' {
        $failure = { Start-UsbIpServer -Root $root -Address nowhere -TcpPort 0 } |
            Should -Throw -ErrorId 'UsbIpInvalidAddress,VirtTools.Commands.UsbIp.StartUsbIpServerCommand' -PassThru
        $failure.CategoryInfo.Category | Should -Be 'InvalidArgument'
        $failure.TargetObject | Should -Be 'nowhere'
    }

    It 'starts nothing with -WhatIf' {
        Start-UsbIpServer -Root $root -Address 127.0.0.1 -TcpPort 0 -WhatIf | Should -BeNullOrEmpty
    }
}

Describe '-DeadPeerTimeout of Start-UsbIpServer and Connect-UsbIpDevice' {
    It 'says under -WhatIf how soon a vanished peer frees what it held' {
        Get-WhatIfText { Start-UsbIpServer -Root $root -Address 127.0.0.1 -TcpPort 0 -DeadPeerTimeout 30 -WhatIf } |
            Should -Match "a vanished client's device freed after 30 s"
        Get-WhatIfText { Connect-UsbIpDevice -Root $root -ComputerName 127.0.0.1 -BusId 2-3 -DeadPeerTimeout 45 -WhatIf } |
            Should -Match 'the port freed 45 s after the server vanishes'
    }

    It 'defaults to 60 s, as --dead-peer-timeout does' {
        Get-WhatIfText { Start-UsbIpServer -Root $root -Address 127.0.0.1 -TcpPort 0 -WhatIf } | Should -Match 'freed after 60 s'
    }

    It 'starts a server that serves with it' {
        $server = Start-UsbIpServer -Root $root -Address 127.0.0.1 -TcpPort 0 -DeadPeerTimeout 5
        try {
            $server.IsRunning | Should -BeTrue
            { Get-UsbIpDevice -Root $root -ComputerName 127.0.0.1 -TcpPort $server.TcpPort -ErrorAction Stop } | Should -Not -Throw
        }
        finally {
            $server | Stop-UsbIpServer
        }
    }

    It 'refuses <Value> s, outside 5 to 43200, when binding' -ForEach @(@{ Value = 4 }, @{ Value = 43201 }) {
        { Start-UsbIpServer -Root $root -TcpPort 0 -DeadPeerTimeout $Value -WhatIf } |
            Should -Throw -ErrorId 'ParameterArgumentValidationError,VirtTools.Commands.UsbIp.StartUsbIpServerCommand'
        { Connect-UsbIpDevice -Root $root -ComputerName 127.0.0.1 -BusId 2-3 -DeadPeerTimeout $Value -WhatIf } |
            Should -Throw -ErrorId 'ParameterArgumentValidationError,VirtTools.Commands.UsbIp.ConnectUsbIpDeviceCommand'
    }
}

Describe 'Stop-UsbIpServer' {
    It 'stops a server piped in, whose port then refuses clients' {
        $server = Start-UsbIpServer -Root $root -Address 127.0.0.1 -TcpPort 0
        $server | Stop-UsbIpServer
        $server.IsRunning | Should -BeFalse
        { Get-UsbIpDevice -Root $root -ComputerName 127.0.0.1 -TcpPort $server.TcpPort -ErrorAction Stop } |
            Should -Throw -ErrorId 'UsbIpServerUnreachable,VirtTools.Commands.UsbIp.GetUsbIpDeviceCommand'
    }

    It 'leaves the server running with -WhatIf' {
        $server = Start-UsbIpServer -Root $root -Address 127.0.0.1 -TcpPort 0
        try {
            $server | Stop-UsbIpServer -WhatIf
            $server.IsRunning | Should -BeTrue
        }
        finally { $server | Stop-UsbIpServer }
    }

    It 'stops every server this session started when given none' {
        $servers = 1..2 | ForEach-Object { Start-UsbIpServer -Root $root -Address 127.0.0.1 -TcpPort 0 }
        Stop-UsbIpServer
        $servers.IsRunning | Should -Be $false, $false
    }

    It 'declares no output' {
        (Get-Command Stop-UsbIpServer).OutputType.Type | Should -Be ([void])
    }
}

Describe 'Get-UsbIpDevice and Connect-UsbIpDevice against a port where nothing listens' {
    BeforeAll {
        # A port that was free a moment ago: the one a stopped server had.
        $server = Start-UsbIpServer -Root $root -Address 127.0.0.1 -TcpPort 0
        $server | Stop-UsbIpServer
        $closedPort = $server.TcpPort
    }

    It 'Get-UsbIpDevice writes UsbIpServerUnreachable, a ConnectionError with the computer name as target' {
        Get-UsbIpDevice -Root $root -ComputerName 127.0.0.1 -TcpPort $closedPort -ErrorVariable failures -ErrorAction SilentlyContinue
        $failures | Should -HaveCount 1
        $failures[0].FullyQualifiedErrorId | Should -Be 'UsbIpServerUnreachable,VirtTools.Commands.UsbIp.GetUsbIpDeviceCommand'
        $failures[0].CategoryInfo.Category | Should -Be 'ConnectionError'
        $failures[0].TargetObject | Should -Be '127.0.0.1'
    }

    It 'Connect-UsbIpDevice writes UsbIpServerUnreachable with the bus id as target, and attaches nothing' {
        $before = Get-TreeState $root
        $failure = { Connect-UsbIpDevice -Root $root -ComputerName 127.0.0.1 -TcpPort $closedPort -BusId 2-3 -Confirm:$false -ErrorAction Stop } |
            Should -Throw -ErrorId 'UsbIpServerUnreachable,VirtTools.Commands.UsbIp.ConnectUsbIpDeviceCommand' -PassThru
        $failure.TargetObject | Should -Be '2-3'
        Compare-Object $before (Get-TreeState $root) | Should -BeNullOrEmpty
    }

    It 'Connect-UsbIpDevice declares UsbIpPort as its output type' {
        (Get-Command Connect-UsbIpDevice).OutputType.Type | Should -Be ([VirtTools.UsbIp.UsbIpPort])
    }
}

Describe 'Get-UsbIpPort' {
    BeforeAll {
        $ports = Get-UsbIpPort -Root $root -All
        # Each vhci_hcd status file has a header line, then one line per port.
        $statusLines = Get-ChildItem "$root/sys/devices/platform/vhci_hcd.*/status*" | Get-Content | Where-Object { $_ -notmatch '^hub ' }
    }

    It 'lists every port of every vhci_hcd controller with -All' {
        $ports | Should -HaveCount $statusLines.Count
    }

    It 'counts them per controller and hub with no switch, and the counts add up to the ports' {
        $summary = @(Get-UsbIpPort -Root $root)
        $summary | Should -BeOfType ([VirtTools.UsbIp.UsbIpPortSummary])
        $summary.Count | Should -Be @($ports | Group-Object Controller, Hub).Count
        ($summary | Measure-Object Ports -Sum).Sum | Should -Be $ports.Count
        ($summary | Measure-Object InUse -Sum).Sum | Should -Be @($ports | Where-Object IsInUse).Count
        ($summary | Measure-Object Free -Sum).Sum | Should -Be @($ports | Where-Object IsFree).Count
        $held = $summary | Where-Object InUse -gt 0
        ($held.Controller, $held.Hub, $held.InUse) | Should -Be @('vhci_hcd.0', [VirtTools.UsbIp.VhciHub]::SuperSpeed, 1)
    }

    It 'shows the summary table with its column headers' {
        Get-UsbIpPort -Root $root | Out-String -Width 200 | Should -Match '(?m)^Controller\s+Hub\s+Ports\s+InUse\s+Free\s*$'
    }

    It 'splits them into -InUse and -Free' {
        $inUse = @(Get-UsbIpPort -Root $root -InUse)
        $free = @(Get-UsbIpPort -Root $root -Free)
        $inUse.Count + $free.Count | Should -Be $ports.Count
        $inUse.Port | Should -Be ($statusLines | Where-Object { ($_ -split '\s+')[2] -eq '006' } | ForEach-Object { [int] ($_ -split '\s+')[1] })
    }

    It 'shows the imported stick (4-1) on a SuperSpeed port' {
        $port = Get-UsbIpPort -Root $root -InUse
        $port.LocalBusId | Should -Be '4-1'
        $port.Hub | Should -Be 'SuperSpeed'
        $port.SpeedMbps | Should -Be 5000
    }

    It 'gives $null for the remote end when no attach record exists under /run/vhci_hcd' {
        Test-Path "$root/run/vhci_hcd" | Should -BeFalse
        $port = Get-UsbIpPort -Root $root -InUse
        $port.RemoteHost | Should -BeNullOrEmpty
        $port.RemoteTcpPort | Should -BeNullOrEmpty
        $port.RemoteBusId | Should -BeNullOrEmpty
    }

    It 'throws UsbIpPortNotFound for a port no controller has' {
        { Get-UsbIpPort -Root $root -Port 9999 -ErrorAction Stop } | Should -Throw -ErrorId 'UsbIpPortNotFound,VirtTools.Commands.Usb.GetUsbIpPortCommand'
    }

    It 'declares the summary and UsbIpPort as its output types, and writes a port with -All' {
        (Get-Command Get-UsbIpPort).OutputType.Type | Should -Be @([VirtTools.UsbIp.UsbIpPortSummary], [VirtTools.UsbIp.UsbIpPort])
        $ports[0] | Should -BeOfType ([VirtTools.UsbIp.UsbIpPort])
    }

    It 'shows the default table with its column headers' {
        Get-UsbIpPort -Root $root -InUse | Out-String -Width 200 |
            Should -Match '(?m)^Controller\s+Hub\s+Port\s+Status\s+Mbps\s+LocalBusId\s+Container\s+Remote\s*$'
    }
}

Describe 'Disconnect-UsbIpDevice' {
    It 'changes nothing with -WhatIf when Get-UsbIpPort -InUse pipes the port in' {
        $before = Get-TreeState $root
        Get-UsbIpPort -Root $root -InUse | Disconnect-UsbIpDevice -WhatIf
        Compare-Object $before (Get-TreeState $root) | Should -BeNullOrEmpty
        (Get-UsbIpPort -Root $root -InUse).LocalBusId | Should -Be '4-1'
    }

    It 'reports a free port as UsbIpPortNotInUse for that port, and goes on with the others' {
        $inUse = (Get-UsbIpPort -Root $root -InUse).Port
        Disconnect-UsbIpDevice -Root $root -Port 3, $inUse -WhatIf -ErrorVariable failures -ErrorAction SilentlyContinue
        $failures | Should -HaveCount 1
        $failures[0].FullyQualifiedErrorId | Should -Be 'UsbIpPortNotInUse,VirtTools.Commands.UsbIp.DisconnectUsbIpDeviceCommand'
        $failures[0].CategoryInfo.Category | Should -Be 'InvalidArgument'
        $failures[0].TargetObject | Should -Be 3
    }

    It 'throws UsbIpPortNotFound for a server and bus id no attach record names' {
        { Disconnect-UsbIpDevice -Root $root -ComputerName 127.0.0.1 -BusId 2-3 -WhatIf -ErrorAction Stop } |
            Should -Throw -ErrorId 'UsbIpPortNotFound,VirtTools.Commands.UsbIp.DisconnectUsbIpDeviceCommand'
    }

    It 'declares no output' {
        (Get-Command Disconnect-UsbIpDevice).OutputType.Type | Should -Be ([void])
    }
}
