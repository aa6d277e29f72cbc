# Tab completion of values, through TabExpansion2 as the console calls it, on a copy of the captured kernel tree.
# Every expected list is an independent reading of the tree's files (directory listings, the vhci status tables),
# never the module's own readers and never a list written down here.

BeforeAll {
    . "$PSScriptRoot/Common.ps1"
    Import-Module $ModuleManifest -Force
    $script:Root = New-FixtureCopy

    # What the console offers for the last word of $Line (the cursor at its end).
    function Get-Completion([string] $Line) {
        @((TabExpansion2 -inputScript $Line -cursorColumn $Line.Length).CompletionMatches)
    }
    function Get-CompletionText([string] $Line) { @(Get-Completion $Line | ForEach-Object CompletionText) }

    # Independent readings of the tree.
    function Get-EntryName([string] $Folder) { @(Get-ChildItem -Name (Join-Path $script:Root $Folder) | Sort-Object) }
    $script:UsbDevices = @(Get-EntryName sys/bus/usb/devices | Where-Object { $_ -notlike '*:*' })   # interfaces have a colon
    $script:UsbExports = @(Get-EntryName sys/bus/usb/drivers/usbip-host | Where-Object { $_ -match '^\d+-[\d.]+$' })
    $script:UsbHubs = @($script:UsbDevices | Where-Object {
            (Get-Content -Raw (Join-Path $script:Root "sys/bus/usb/devices/$_/bDeviceClass")).Trim() -eq '09' })
    $script:PciAddresses = Get-EntryName sys/bus/pci/devices
    $script:PciDrivers = Get-EntryName sys/bus/pci/drivers
    $script:IommuGroups = @(Get-EntryName sys/kernel/iommu_groups | Sort-Object { [int]$_ })
    # vhci_hcd.0/status, status.1 ...: "hub port sta spd dev sockfd local_busid", sta 006 = in use (VDEV_ST_USED).
    $script:VhciRows = @(Get-ChildItem (Join-Path $script:Root 'sys/devices/platform/vhci_hcd.0') -Filter 'status*' |
            Get-Content | Where-Object { $_ -notlike 'hub *' } | ForEach-Object {
                $hub, $port, $status = -split $_
                [pscustomobject]@{ Port = [string][int]$port; InUse = $status -eq '006' }
            })
}

AfterAll {
    Remove-FixtureCopy $script:Root
}

Describe 'USB bus id completion' {
    It 'Get-UsbDevice -BusId offers every device under the typed -Root, hubs included' {
        Get-CompletionText "Get-UsbDevice -Root $Root -BusId " | Sort-Object | Should -Be ($UsbDevices | Sort-Object)
    }

    It 'keeps only the bus ids that start with the word typed' {
        $expected = @($UsbDevices | Where-Object { $_ -like '1-*' } | Sort-Object)
        $expected.Count | Should -BeGreaterThan 0
        Get-CompletionText "Get-UsbDevice -Root $Root 1-" | Sort-Object | Should -Be $expected
    }

    It 'shows ids, name and driver in the menu and the tooltip' {
        $keyboard = Get-Completion "Get-UsbDevice -Root $Root -BusId 1-1" | Where-Object CompletionText -eq '1-1'
        $vendor = (Get-Content -Raw "$Root/sys/bus/usb/devices/1-1/idVendor").Trim()
        $product = (Get-Content -Raw "$Root/sys/bus/usb/devices/1-1/product").Trim()
        $keyboard.ListItemText | Should -BeLike "1-1  $vendor`:* $product *"
        $keyboard.ToolTip | Should -Be $keyboard.ListItemText
    }

    It 'Export-UsbIpDevice offers the devices it can share: no hubs, nothing shared already' {
        $expected = @($UsbDevices | Where-Object { $_ -notin $UsbHubs -and $_ -notin $UsbExports } | Sort-Object)
        Get-CompletionText "Export-UsbIpDevice -Root $Root -BusId " | Sort-Object | Should -Be $expected
    }

    It '<Command> offers the bus ids bound to usbip-host' -ForEach @(
        @{ Command = 'Get-UsbIpExport' }, @{ Command = 'Remove-UsbIpExport' }
    ) {
        $UsbExports.Count | Should -BeGreaterThan 0
        Get-CompletionText "$Command -Root $Root -BusId " | Should -Be $UsbExports
    }

    It 'closes the quote the user opened' {
        Get-CompletionText "Remove-UsbIpExport -Root $Root -BusId `"$($UsbExports[0])" | Should -Be "`"$($UsbExports[0])`""
        Get-CompletionText "Remove-UsbIpExport -Root $Root -BusId '$($UsbExports[0])" | Should -Be "'$($UsbExports[0])'"
    }
}

Describe 'PCI completion' {
    It '<Command> -Address offers every function' -ForEach @(
        @{ Command = 'Get-PciDevice' }, @{ Command = 'Set-PciPassthrough' }, @{ Command = 'Remove-PciPassthrough' }
        @{ Command = 'Get-IommuGroup' }, @{ Command = 'Get-PciIrqShare' }
    ) {
        Get-CompletionText "$Command -Root $Root -Address " | Should -Be $PciAddresses
    }

    It 'matches the short form without the domain and completes the full address' {
        $expected = @($PciAddresses | Where-Object { $_ -like '0000:00:1f*' })
        $expected.Count | Should -BeGreaterThan 0
        Get-CompletionText "Get-PciDevice -Root $Root -Address 00:1f" | Should -Be $expected
    }

    It 'shows vendor:device and driver for a function' {
        $address = $PciAddresses | Where-Object { Test-Path "$Root/sys/bus/pci/devices/$_/driver" } | Select-Object -First 1
        $vendor = (Get-Content -Raw "$Root/sys/bus/pci/devices/$address/vendor").Trim() -replace '^0x'
        $device = (Get-Content -Raw "$Root/sys/bus/pci/devices/$address/device").Trim() -replace '^0x'
        $driver = Split-Path -Leaf (Get-Item "$Root/sys/bus/pci/devices/$address/driver").LinkTarget
        $item = Get-Completion "Get-PciDevice -Root $Root -Address $address" | Where-Object CompletionText -eq $address
        $item.ListItemText | Should -BeLike ("$address  $vendor`:$device * " + [WildcardPattern]::Escape("[$driver]"))
    }

    It 'Get-IommuGroup -Group offers every group number, with its members' {
        Get-CompletionText "Get-IommuGroup -Root $Root -Group " | Should -Be $IommuGroups
        $members = Get-EntryName "sys/kernel/iommu_groups/$($IommuGroups[-1])/devices"
        (Get-Completion "Get-IommuGroup -Root $Root -Group $($IommuGroups[-1])").ListItemText |
            Should -BeLike "$($IommuGroups[-1])  $($members -join ', ') (*)"
    }

    It 'Get-PciDevice -Driver offers the drivers registered under /sys/bus/pci/drivers' {
        Get-CompletionText "Get-PciDevice -Root $Root -Driver " | Should -Be $PciDrivers
        Get-CompletionText "Get-PciDevice -Root $Root -Driver vf" | Should -Be @($PciDrivers | Where-Object { $_ -like 'vf*' })
    }

    It 'Set-PciPassthrough -Driver offers the two drivers passthrough uses' {
        Get-CompletionText "Set-PciPassthrough -Root $Root -Address 0000:00:02.0 -Driver " | Sort-Object |
            Should -Be @('pci-stub', 'vfio-pci')
    }
}

Describe 'vhci port completion' {
    It 'Get-UsbIpPort -Port offers every port of every controller' {
        $expected = @($VhciRows | Where-Object Port -like '2*' | ForEach-Object Port)
        Get-CompletionText "Get-UsbIpPort -Root $Root -Port 2" | Sort-Object { [int]$_ } |
            Should -Be ($expected | Sort-Object { [int]$_ })
    }

    It 'Disconnect-UsbIpDevice -Port offers only the ports with a device attached' {
        $expected = @($VhciRows | Where-Object InUse | ForEach-Object Port)
        $expected.Count | Should -BeGreaterThan 0
        Get-CompletionText "Disconnect-UsbIpDevice -Root $Root -Port " | Should -Be $expected
    }
}

Describe 'KSM process completion' {
    BeforeAll {
        # The captured tree has no /proc; two invented processes, one with merged pages and one without.
        function New-Process([int] $Id, [string] $Name, [long] $Merging) {
            $folder = New-Item -ItemType Directory -Force -Path "$Root/proc/$Id"
            Set-Content "$folder/comm" $Name
            Set-Content "$folder/cmdline" -NoNewline "$Name`0-name`0guest=vm$Id`0"
            Set-Content "$folder/ksm_merging_pages" $Merging
            Set-Content "$folder/ksm_stat" "ksm_rmap_items 10`nksm_merging_pages $Merging`n"
        }
        New-Process 4242 'qemu-system-x86' 512
        New-Process 4343 'idle-worker' 0
        $script:Merging = @(Get-ChildItem "$Root/proc" -Directory | Where-Object {
                [long](Get-Content -Raw "$($_.FullName)/ksm_merging_pages") -gt 0 })
    }

    It 'Get-KsmStats -ProcessId offers the processes that have merging pages' {
        Get-CompletionText "Get-KsmStats -Root $Root -ProcessId " | Should -Be @($Merging.Name)
    }

    It 'Get-KsmStats -Name offers their names' {
        $names = @($Merging | ForEach-Object { (Get-Content -Raw "$($_.FullName)/comm").Trim() })
        Get-CompletionText "Get-KsmStats -Root $Root -Name " | Should -Be $names
    }
}

Describe 'Which root completion reads' {
    It 'reads $env:VIRTTOOLS_ROOT when no -Root is typed' {
        $saved = $env:VIRTTOOLS_ROOT
        try {
            $env:VIRTTOOLS_ROOT = $Root
            Get-CompletionText 'Get-PciDevice -Address ' | Should -Be $PciAddresses
        }
        finally { $env:VIRTTOOLS_ROOT = $saved }
    }

    It 'prefers the typed -Root over $env:VIRTTOOLS_ROOT' {
        $saved = $env:VIRTTOOLS_ROOT
        try {
            $env:VIRTTOOLS_ROOT = Join-Path ([IO.Path]::GetTempPath()) "virttools-no-such-root-$([guid]::NewGuid())"
            Get-CompletionText "Get-PciDevice -Root $Root -Address " | Should -Be $PciAddresses
        }
        finally { $env:VIRTTOOLS_ROOT = $saved }
    }

    It 'resolves a relative -Root against the PowerShell location' {
        Push-Location (Split-Path $Root)
        try { Get-CompletionText "Get-IommuGroup -Root ./$(Split-Path -Leaf $Root) -Group " | Should -Be $IommuGroups }
        finally { Pop-Location }
    }

    It 'reads the -Root held in a variable' {
        $fixture = $Root
        $line = 'Get-UsbIpExport -Root $fixture -BusId '
        @((TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches.CompletionText) | Should -Be $UsbExports
    }

    It 'offers nothing, and throws nothing, for a -Root that does not exist' {
        $missing = Join-Path ([IO.Path]::GetTempPath()) "virttools-no-such-root-$([guid]::NewGuid())"
        { Get-Completion "Get-PciDevice -Root $missing -Address " } | Should -Not -Throw
        Get-Completion "Get-PciDevice -Root $missing -Address " | Should -BeNullOrEmpty
        Get-Completion "Get-UsbIpPort -Root $missing -Port " | Should -BeNullOrEmpty
    }
}
