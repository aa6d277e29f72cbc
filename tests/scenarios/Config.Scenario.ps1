# Desired state on a copy of the captured 6.1 tree: export the host as a profile, test it, change it, sync it.
param($Root)
. "$PSScriptRoot/_Assert.ps1"

$hostProfile = "$Root/etc/virttools/host.yaml"
Export-VirtHostConfig -Root $Root -Path $hostProfile
Assert-True ([IO.File]::ReadAllText($hostProfile).Contains('serial: "LAB0001"')) 'the exported device is named by its serial'
Assert-Equal 'LAB0001' (Get-VirtHostConfig -Root $Root -Path $hostProfile).UsbIp.Exports[0].Match.Serial 'the export reads back'
Assert-Equal 0 @(Test-VirtHostConfig -Root $Root -Path $hostProfile | Where-Object { -not $_.InSync }).Count 'a fresh export is in sync'

[IO.File]::WriteAllText($hostProfile, [IO.File]::ReadAllText($hostProfile).Replace('pagesToScan: 100', 'pagesToScan: 400'))
$drift = @(Test-VirtHostConfig -Root $Root -Path $hostProfile | Where-Object { -not $_.InSync })
Assert-Equal 1 $drift.Count 'one key changed, one item drifts'
Assert-Equal 'ksm.pagesToScan' $drift[0].Item 'and it is pagesToScan'
Assert-Equal '100' $drift[0].Actual 'as the kernel has it'

$preview = @(Sync-VirtHostConfig -Root $Root -Path $hostProfile -WhatIf | Where-Object { $_.Outcome -eq 'Skipped' })
Assert-Equal 1 $preview.Count '-WhatIf skips the drifting item'
Assert-Equal "100`n" ([IO.File]::ReadAllText("$Root/sys/kernel/mm/ksm/pages_to_scan")) '-WhatIf writes nothing'

$after = @(Sync-VirtHostConfig -Root $Root -Path $hostProfile)
Assert-Equal 'Applied' "$(($after | Where-Object { $_.Item -eq 'ksm.pagesToScan' }).Outcome)" 'sync applies it'
Assert-Equal 400 (Get-KsmStats -Root $Root).PagesToScan 'and the kernel has it'
Assert-Equal 0 @(Sync-VirtHostConfig -Root $Root -Path $hostProfile | Where-Object { $_.Outcome -ne 'Unchanged' }).Count 'a second sync changes nothing'

[IO.File]::WriteAllText($hostProfile, "usbip:`n  exports:`n    - match: { vendorId: `"0627`" }`n")
Assert-Throws { Sync-VirtHostConfig -Root $Root -Path $hostProfile } 'UsbIpExportAmbiguous' 'a match that fits both QEMU HID devices is refused'
