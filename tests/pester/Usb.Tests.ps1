# Local USB devices and their USB/IP exports, on a copy of the captured 6.1 tree: 1-1 keyboard, 1-2 tablet, 2-3 storage
# stick exported through usbip-host and imported back over loopback as 4-1. Every test only reads or runs with
# -WhatIf (and proves it wrote nothing), so the file shares one copy.
BeforeAll {
    . "$PSScriptRoot/Common.ps1"
    Import-Module $ModuleManifest -Force
    $root = New-FixtureCopy
}
AfterAll { Remove-FixtureCopy $root }

Describe 'Get-UsbDevice' {
    It 'lists every device of sys/bus/usb/devices that is not a hub' {
        # Device entries are named <bus>-<port path>; interfaces carry a ':' and root hubs are usbN.
        $expected = Get-ChildItem "$root/sys/bus/usb/devices" -Name |
            Where-Object { $_ -match '^\d+-[\d.]+$' -and (Get-Content "$root/sys/bus/usb/devices/$_/bDeviceClass") -ne '09' }
        (Get-UsbDevice -Root $root).BusId | Sort-Object | Should -Be ($expected | Sort-Object)
    }

    It 'adds the root hubs with -IncludeHub, in bus order (usb2 before usb10)' {
        $hubs = Get-UsbDevice -Root $root -IncludeHub | Where-Object IsHub
        $hubs.BusId | Should -Be (Get-ChildItem "$root/sys/bus/usb/devices" -Name -Filter 'usb*' | Sort-Object { [int] ($_ -replace '^usb') })
    }

    It 'gives each hub its port count from maxchild, and a device none' {
        foreach ($hub in Get-UsbDevice -Root $root -IncludeHub | Where-Object IsHub) {
            $hub.PortCount | Should -Be ([int] (Get-Content "$root/sys/bus/usb/devices/$($hub.BusId)/maxchild")) -Because $hub.BusId
        }
        (Get-UsbDevice -Root $root 1-1).PortCount | Should -BeNullOrEmpty
    }

    It 'lists the nodes the kernel made for a device: the imported stick its disk, the keyboard its hidraw' {
        (Get-UsbDevice -Root $root 4-1).Nodes | Should -Be '/dev/sda'
        (Get-UsbDevice -Root $root 4-1).DevicePath | Should -Not -BeIn (Get-UsbDevice -Root $root 4-1).Nodes
        (Get-UsbDevice -Root $root 1-1).Nodes | Should -Contain '/dev/hidraw0'
    }

    It 'carries the vendor and product as one UsbId, with VendorId and ProductId as its halves' {
        $stick = Get-UsbDevice -Root $root 2-3
        $stick.UsbId | Should -BeOfType ([VirtTools.Usb.UsbId])
        "$($stick.UsbId)" | Should -Be '46f4:0001'
        ($stick.VendorId, $stick.ProductId) | Should -Be @('46f4', '0001')
    }

    It 'carries BusId as a UsbBusId that compares with text and sorts by number' {
        (Get-UsbDevice -Root $root 2-3).BusId | Should -BeOfType ([VirtTools.Usb.UsbBusId])
        (Get-UsbDevice -Root $root 2-3).BusId -eq '2-3' | Should -BeTrue
        [VirtTools.Usb.UsbBusId[]] ('1-10', '1-2', 'usb1', '1-2.1') | Sort-Object | ForEach-Object ToString | Should -Be 'usb1', '1-2', '1-2.1', '1-10'
    }

    It 'filters by vendor and product id, written as people type them' {
        $sticks = Get-UsbDevice -Root $root -VendorId 0x46F4 -ProductId 0001
        $sticks.BusId | Sort-Object | Should -Be '2-3', '4-1'
        $sticks | ForEach-Object { $_.SerialNumber | Should -Be 'LAB0001' }
    }

    It 'marks the exported and the imported copy of the stick' {
        (Get-UsbDevice -Root $root 2-3).IsExported | Should -BeTrue
        (Get-UsbDevice -Root $root 4-1).IsImported | Should -BeTrue
    }

    It 'gives $null for usbip_status on a device usbip-host does not hold, which has no such file' {
        Test-Path "$root/sys/bus/usb/devices/1-1/usbip_status" | Should -BeFalse
        (Get-UsbDevice -Root $root 1-1).UsbIpStatus | Should -BeNullOrEmpty
    }

    It 'refuses a vendor id that is not four hex digits when binding' {
        { Get-UsbDevice -Root $root -VendorId xyz } | Should -Throw -ErrorId 'ParameterArgumentValidationError,VirtTools.Commands.Usb.GetUsbDeviceCommand'
    }

    It 'throws UsbDeviceNotFound for an absent bus id under -ErrorAction Stop' {
        { Get-UsbDevice -Root $root 9-9 -ErrorAction Stop } | Should -Throw -ErrorId 'UsbDeviceNotFound,VirtTools.Commands.Usb.GetUsbDeviceCommand'
    }

    It 'reports each absent bus id as a non-terminating error with the id as target, and lists the others' {
        $found = Get-UsbDevice -Root $root 1-1, 9-9, 2-3 -ErrorVariable failures -ErrorAction SilentlyContinue
        $found.BusId | Should -Be '1-1', '2-3'
        $failures | Should -HaveCount 1
        $failures[0].FullyQualifiedErrorId | Should -BeLike 'UsbDeviceNotFound,*'
        $failures[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
        $failures[0].TargetObject | Should -Be '9-9'
        $failures[0].ErrorDetails.RecommendedAction | Should -Not -BeNullOrEmpty
    }

    It 'fails the whole command with RootNotFound when -Root does not exist' {
        { Get-UsbDevice -Root "$root/absent" } | Should -Throw -ErrorId 'RootNotFound,VirtTools.Commands.Usb.GetUsbDeviceCommand'
    }

    It 'declares UsbDevice as its output type, and writes one' {
        (Get-Command Get-UsbDevice).OutputType.Type | Should -Be ([VirtTools.Usb.UsbDevice])
        Get-UsbDevice -Root $root 1-1 | Should -BeOfType ([VirtTools.Usb.UsbDevice])
    }

    It 'shows the default table with its column headers' {
        $table = Get-UsbDevice -Root $root | Out-String -Width 200
        $table | Should -Match '(?m)^BusId\s+Dev\s+ID\s+Mbps\s+Driver\s+USB/IP\s+Description\s*$'
        $table | Should -Match '(?m)^2-3\s+002/002\s+46f4:0001\s+5000\s+usbip-host\s+Exported \(InUse\)'
    }
}

Describe 'Get-UsbIpExport' {
    It 'lists the devices bound to usbip-host' {
        $bound = Get-ChildItem "$root/sys/bus/usb/drivers/usbip-host" -Name | Where-Object { $_ -match '^\d+-[\d.]+$' }
        (Get-UsbIpExport -Root $root).BusId | Should -Be $bound
    }

    It 'takes exported devices from Get-UsbDevice by property name' {
        $export = Get-UsbDevice -Root $root | Where-Object IsExported | Get-UsbIpExport
        $export.BusId | Should -Be '2-3'
        $export.Root | Should -Be $root
    }

    It 'reads usbip_status: 2 is a device a client holds' {
        Get-Content "$root/sys/bus/usb/devices/2-3/usbip_status" | Should -Be '2'
        (Get-UsbIpExport -Root $root 2-3).Status | Should -Be 'InUse'
    }

    It 'throws UsbIpExportNotFound for a device that is not exported' {
        { Get-UsbIpExport -Root $root 1-1 -ErrorAction Stop } | Should -Throw -ErrorId 'UsbIpExportNotFound,VirtTools.Commands.Usb.GetUsbIpExportCommand'
    }

    It 'declares UsbIpExport as its output type, and writes one' {
        (Get-Command Get-UsbIpExport).OutputType.Type | Should -Be ([VirtTools.UsbIp.UsbIpExport])
        Get-UsbIpExport -Root $root | Should -BeOfType ([VirtTools.UsbIp.UsbIpExport])
    }

    It 'shows the default table with its column headers' {
        Get-UsbIpExport -Root $root | Out-String -Width 200 |
            Should -Match '(?m)^BusId\s+Status\s+Bound\s+Matched\s+ID\s+Client\s+Description\s*$'
    }

    It 'shows no Client when no managed server recorded one (the capture came from a stock usbipd)' {
        (Get-UsbIpExport -Root $root 2-3).Client | Should -BeNullOrEmpty
    }
}

Describe 'Get-UsbIpExport Client: who holds the export, as the managed server recorded it' {
    # A copy of its own: this one writes the record a server writes at hand-over (this shell's PID as the server's).
    BeforeAll {
        $holderRoot = New-FixtureCopy
        $record = [VirtTools.UsbIp.Host.UsbIpHolderRecord]::For('2-3', [Net.IPEndPoint]::new([ipaddress]'10.0.0.9', 50123), $null, [datetime]::UtcNow)
        $record.Write([VirtTools.Sysfs.SystemRoot]::new($holderRoot))
    }
    AfterAll { Remove-FixtureCopy $holderRoot }

    It 'is the address and port of the client holding 2-3, also in the table' {
        $export = Get-UsbIpExport -Root $holderRoot 2-3
        $export.Client | Should -Be '10.0.0.9:50123'
        $export.ClientAddress | Should -Be '10.0.0.9:50123'
        $export.ClientIdentity | Should -BeNullOrEmpty
        Get-UsbIpExport -Root $holderRoot | Out-String -Width 200 | Should -Match '(?m)^2-3\s+InUse\s+True\s+True\s+46f4:0001\s+10\.0\.0\.9:50123\s'
    }

    It 'is $null once usbip_status says the device is free again, whatever the record says' {
        Set-Content -Path "$holderRoot/sys/bus/usb/devices/2-3/usbip_status" -Value '1'
        (Get-UsbIpExport -Root $holderRoot 2-3).Client | Should -BeNullOrEmpty
    }
}

Describe 'Export-UsbIpDevice' {
    Context 'every device piped in from Get-UsbDevice, with -WhatIf' {
        BeforeAll {
            $before = Get-TreeState $root
            $exports = Get-UsbDevice -Root $root | Export-UsbIpDevice -WhatIf -ErrorVariable failures -ErrorAction SilentlyContinue
            $after = Get-TreeState $root
        }

        It 'changes nothing under the root' {
            Compare-Object $before $after | Should -BeNullOrEmpty
        }

        It 'outputs the device that is already exported, as it is' {
            $exports.BusId | Should -Be '2-3'
            $exports.Device.Driver | Should -Be 'usbip-host'
        }

        It 'refuses the imported copy (4-1) as usbip bind does, and goes on with the others' {
            $failures | Should -HaveCount 1
            $failures[0].FullyQualifiedErrorId | Should -Be 'UsbIpBindLoop,VirtTools.Commands.UsbIp.ExportUsbIpDeviceCommand'
            $failures[0].CategoryInfo.Category | Should -Be 'InvalidArgument'
            $failures[0].TargetObject | Should -Be '4-1'
        }
    }

    It 'throws UsbIpBindLoop under -ErrorAction Stop' {
        { Export-UsbIpDevice -Root $root 4-1 -ErrorAction Stop } | Should -Throw -ErrorId 'UsbIpBindLoop,*'
    }

    It 'binds -BusId from text, from a piped string and from a piped object' {
        (Export-UsbIpDevice -Root $root -BusId 2-3 -WhatIf).BusId | Should -Be '2-3'
        ('2-3' | Export-UsbIpDevice -Root $root -WhatIf).BusId | Should -Be '2-3'
        ([pscustomobject]@{ BusId = '2-3'; Root = $root } | Export-UsbIpDevice -WhatIf).BusId | Should -Be '2-3'
    }

    It 'refuses a -BusId that is no bus id when binding, naming the value' {
        $thrown = { Export-UsbIpDevice -Root $root -BusId '2-3:1.0' -WhatIf } | Should -Throw -ErrorId 'CannotConvertArgumentNoMessage,*' -PassThru
        $thrown.Exception.Message | Should -Match "'2-3:1\.0' is not a USB bus id"
    }

    It 'declares UsbIpExport as its output type' {
        (Get-Command Export-UsbIpDevice).OutputType.Type | Should -Be ([VirtTools.UsbIp.UsbIpExport])
    }
}

Describe 'Remove-UsbIpExport' {
    It 'changes nothing with -WhatIf when Get-UsbIpExport pipes every export in' {
        $before = Get-TreeState $root
        Get-UsbIpExport -Root $root | Remove-UsbIpExport -WhatIf
        Compare-Object $before (Get-TreeState $root) | Should -BeNullOrEmpty
        (Get-UsbIpExport -Root $root).BusId | Should -Be '2-3'
    }

    It 'reports a device that is not exported as UsbIpExportNotFound with the bus id as target' {
        Remove-UsbIpExport -Root $root 1-1 -WhatIf -ErrorVariable failures -ErrorAction SilentlyContinue
        $failures[0].FullyQualifiedErrorId | Should -Be 'UsbIpExportNotFound,VirtTools.Commands.UsbIp.RemoveUsbIpExportCommand'
        $failures[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
        $failures[0].TargetObject | Should -Be '1-1'
    }

    It 'declares UsbDevice as its -PassThru output type' {
        (Get-Command Remove-UsbIpExport).OutputType.Type | Should -Be ([VirtTools.Usb.UsbDevice])
    }
}

Describe 'Get-UsbDevice PortClaimed' {
    It 'is true for the device usbip-host holds and $null where the kernel does not tell' {
        (Get-UsbDevice -Root $root 2-3).PortClaimed | Should -BeTrue
        (Get-UsbDevice -Root $root 1-1).PortClaimed | Should -BeNullOrEmpty
        (Get-UsbDevice -Root $root -BusId usb1 -IncludeHub).PortClaimed | Should -BeNullOrEmpty
    }

    It 'is true for a device left unconfigured on the generic driver, and not for one that is not authorized' {
        $copy = New-FixtureCopy
        try {
            # What the kernel shows of a tablet plugged into a claimed port: on "usb", authorized, no active configuration.
            $tablet = (Get-UsbDevice -Root $copy 1-2).SysfsPath
            [IO.File]::WriteAllText("$copy$tablet/bConfigurationValue", '')
            (Get-UsbDevice -Root $copy 1-2).PortClaimed | Should -BeTrue
            [IO.File]::WriteAllText("$copy$tablet/authorized", "0`n")
            (Get-UsbDevice -Root $copy 1-2).PortClaimed | Should -BeNullOrEmpty
        }
        finally { Remove-FixtureCopy $copy }
    }
}
