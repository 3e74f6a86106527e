{
	"patcher": {
		"fileversion": 1,
		"appversion": {
			"major": 8,
			"minor": 6,
			"revision": 0,
			"architecture": "x64",
			"modernui": 1
		},
		"classnamespace": "box",
		"rect": [
			80.0,
			80.0,
			860.0,
			700.0
		],
		"openrect": [
			0.0,
			0.0,
			400.0,
			169.0
		],
		"bglocked": 0,
		"openinpresentation": 1,
		"default_fontsize": 10.0,
		"default_fontface": 0,
		"default_fontname": "Arial",
		"gridonopen": 1,
		"gridsize": [
			8.0,
			8.0
		],
		"gridsnaponopen": 1,
		"objectsnaponopen": 1,
		"statusbarvisible": 2,
		"toolbarvisible": 1,
		"devicewidth": 400.0,
		"description": "MusicGen Bridge: generate bar-exact loops at the song tempo with a local MusicGen daemon",
		"digest": "Prompt, bars, Melody/Continue from the selected clip; the loop lands in Session or Arrangement",
		"tags": "musicgen loop generator",
		"boxes": [
			{
				"box": {
					"id": "obj-1",
					"maxclass": "newobj",
					"numinlets": 2,
					"numoutlets": 2,
					"outlettype": [
						"signal",
						"signal"
					],
					"patching_rect": [
						16.0,
						560.0,
						52.0,
						22.0
					],
					"text": "plugin~"
				}
			},
			{
				"box": {
					"id": "obj-2",
					"maxclass": "newobj",
					"numinlets": 2,
					"numoutlets": 2,
					"outlettype": [
						"signal",
						"signal"
					],
					"patching_rect": [
						16.0,
						610.0,
						58.0,
						22.0
					],
					"text": "plugout~"
				}
			},
			{
				"box": {
					"id": "obj-3",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 3,
					"outlettype": [
						"bang",
						"int",
						"int"
					],
					"patching_rect": [
						16.0,
						16.0,
						88.0,
						22.0
					],
					"text": "live.thisdevice"
				}
			},
			{
				"box": {
					"id": "obj-4",
					"maxclass": "message",
					"numinlets": 2,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						16.0,
						80.0,
						30.0,
						22.0
					],
					"text": "init"
				}
			},
			{
				"box": {
					"id": "obj-5",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 5,
					"outlettype": [
						"",
						"",
						"",
						"",
						""
					],
					"patching_rect": [
						16.0,
						400.0,
						520.0,
						22.0
					],
					"saved_object_attributes": {
						"filename": "musicgen_bridge.js",
						"parameter_enable": 0
					},
					"text": "js musicgen_bridge.js"
				}
			},
			{
				"box": {
					"id": "obj-6",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						16.0,
						460.0,
						140.0,
						22.0
					],
					"text": "udpsend 127.0.0.1 9000"
				}
			},
			{
				"box": {
					"id": "obj-7",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						560.0,
						340.0,
						150.0,
						22.0
					],
					"text": "udpreceive 9001 @defer 1"
				}
			},
			{
				"box": {
					"id": "obj-8",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 10,
					"outlettype": [
						"bang",
						"bang",
						"bang",
						"bang",
						"bang",
						"bang",
						"bang",
						"bang",
						"bang",
						"bang"
					],
					"patching_rect": [
						16.0,
						48.0,
						210.0,
						22.0
					],
					"text": "t b b b b b b b b b b"
				}
			},
			{
				"box": {
					"annotation": "Describe the loop, e.g. 'dusty boom bap drums with vinyl crackle'. Return or Generate sends it.",
					"id": "obj-9",
					"keymode": 1,
					"maxclass": "textedit",
					"numinlets": 1,
					"numoutlets": 4,
					"outlettype": [
						"",
						"int",
						"",
						""
					],
					"parameter_enable": 1,
					"patching_rect": [
						120.0,
						120.0,
						292.0,
						36.0
					],
					"presentation": 1,
					"presentation_rect": [
						4.0,
						4.0,
						292.0,
						36.0
					],
					"text": "",
					"varname": "Prompt",
					"saved_attribute_attributes": {
						"valueof": {
							"parameter_invisible": 1,
							"parameter_longname": "Prompt",
							"parameter_shortname": "Prompt",
							"parameter_type": 3
						}
					}
				}
			},
			{
				"box": {
					"annotation": "Generate a loop: bars at the song tempo, from the prompt (and the selected clip in Melody/Continue).",
					"id": "obj-10",
					"maxclass": "live.text",
					"mode": 0,
					"numinlets": 1,
					"numoutlets": 2,
					"outlettype": [
						"",
						""
					],
					"parameter_enable": 1,
					"patching_rect": [
						420.0,
						16.0,
						96.0,
						20.0
					],
					"presentation": 1,
					"presentation_rect": [
						300.0,
						4.0,
						96.0,
						20.0
					],
					"saved_attribute_attributes": {
						"valueof": {
							"parameter_enum": [
								"val1",
								"val2"
							],
							"parameter_longname": "Generate",
							"parameter_mmax": 1,
							"parameter_shortname": "Generate",
							"parameter_type": 2
						}
					},
					"text": "Generate",
					"texton": "Generate",
					"varname": "Generate",
					"transition": 1
				}
			},
			{
				"box": {
					"annotation": "Cancel this device's queued and running jobs (the GPU stops now).",
					"id": "obj-11",
					"maxclass": "live.text",
					"mode": 0,
					"numinlets": 1,
					"numoutlets": 2,
					"outlettype": [
						"",
						""
					],
					"parameter_enable": 1,
					"patching_rect": [
						560.0,
						16.0,
						96.0,
						16.0
					],
					"presentation": 1,
					"presentation_rect": [
						300.0,
						26.0,
						96.0,
						14.0
					],
					"saved_attribute_attributes": {
						"valueof": {
							"parameter_enum": [
								"val1",
								"val2"
							],
							"parameter_longname": "Cancel",
							"parameter_mmax": 1,
							"parameter_shortname": "Cancel",
							"parameter_type": 2
						}
					},
					"text": "Cancel",
					"texton": "Cancel",
					"varname": "Cancel",
					"transition": 1
				}
			},
			{
				"box": {
					"id": "obj-12",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						"bang"
					],
					"patching_rect": [
						420.0,
						48.0,
						28.0,
						22.0
					],
					"text": "t b"
				}
			},
			{
				"box": {
					"id": "obj-13",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 2,
					"outlettype": [
						"bang",
						"bang"
					],
					"patching_rect": [
						420.0,
						80.0,
						40.0,
						22.0
					],
					"text": "t b b"
				}
			},
			{
				"box": {
					"id": "obj-14",
					"maxclass": "message",
					"numinlets": 2,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						420.0,
						112.0,
						58.0,
						22.0
					],
					"text": "generate"
				}
			},
			{
				"box": {
					"id": "obj-15",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						"bang"
					],
					"patching_rect": [
						560.0,
						48.0,
						28.0,
						22.0
					],
					"text": "t b"
				}
			},
			{
				"box": {
					"id": "obj-16",
					"maxclass": "message",
					"numinlets": 2,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						560.0,
						112.0,
						46.0,
						22.0
					],
					"text": "cancel"
				}
			},
			{
				"box": {
					"id": "obj-17",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						16.0,
						180.0,
						40.0,
						20.0
					],
					"presentation": 1,
					"presentation_rect": [
						4.0,
						45.0,
						28.0,
						17.0
					],
					"saved_attribute_attributes": {
						"textcolor": {
							"expression": "themecolor.live_control_fg"
						}
					},
					"text": "Bars",
					"textcolor": [
						0.85,
						0.85,
						0.85,
						1.0
					]
				}
			},
			{
				"box": {
					"annotation": "Loop length in bars (at the song's time signature).",
					"id": "obj-18",
					"maxclass": "live.menu",
					"numinlets": 1,
					"numoutlets": 3,
					"outlettype": [
						"",
						"",
						"float"
					],
					"parameter_enable": 1,
					"patching_rect": [
						16.0,
						210.0,
						48.0,
						15.0
					],
					"presentation": 1,
					"presentation_rect": [
						32.0,
						46.0,
						44.0,
						15.0
					],
					"saved_attribute_attributes": {
						"valueof": {
							"parameter_enum": [
								"1",
								"2",
								"4",
								"8",
								"16",
								"32"
							],
							"parameter_initial": [
								2
							],
							"parameter_initial_enable": 1,
							"parameter_invisible": 1,
							"parameter_longname": "Bars",
							"parameter_mmax": 5,
							"parameter_shortname": "Bars",
							"parameter_type": 2
						}
					},
					"varname": "Bars"
				}
			},
			{
				"box": {
					"id": "obj-19",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						90.0,
						180.0,
						40.0,
						20.0
					],
					"presentation": 1,
					"presentation_rect": [
						82.0,
						45.0,
						34.0,
						17.0
					],
					"saved_attribute_attributes": {
						"textcolor": {
							"expression": "themecolor.live_control_fg"
						}
					},
					"text": "Takes",
					"textcolor": [
						0.85,
						0.85,
						0.85,
						1.0
					]
				}
			},
			{
				"box": {
					"annotation": "Variations generated in one pass; each lands in its own clip.",
					"id": "obj-20",
					"maxclass": "live.numbox",
					"numinlets": 1,
					"numoutlets": 2,
					"outlettype": [
						"",
						"float"
					],
					"parameter_enable": 1,
					"patching_rect": [
						90.0,
						210.0,
						40.0,
						15.0
					],
					"presentation": 1,
					"presentation_rect": [
						116.0,
						46.0,
						30.0,
						15.0
					],
					"saved_attribute_attributes": {
						"valueof": {
							"parameter_initial": [
								1
							],
							"parameter_initial_enable": 1,
							"parameter_invisible": 1,
							"parameter_longname": "Takes",
							"parameter_mmax": 8.0,
							"parameter_mmin": 1.0,
							"parameter_shortname": "Takes",
							"parameter_type": 1,
							"parameter_unitstyle": 0
						}
					},
					"varname": "Takes"
				}
			},
			{
				"box": {
					"annotation": "Generate: text only. Melody: the selected audio clip steers the melody. Continue: the loop continues the selected clip.",
					"id": "obj-21",
					"maxclass": "live.tab",
					"num_lines_patching": 1,
					"num_lines_presentation": 1,
					"numinlets": 1,
					"numoutlets": 3,
					"outlettype": [
						"",
						"",
						"float"
					],
					"parameter_enable": 1,
					"patching_rect": [
						160.0,
						210.0,
						200.0,
						15.0
					],
					"presentation": 1,
					"presentation_rect": [
						154.0,
						46.0,
						242.0,
						15.0
					],
					"saved_attribute_attributes": {
						"valueof": {
							"parameter_enum": [
								"Generate",
								"Melody",
								"Continue"
							],
							"parameter_initial": [
								0
							],
							"parameter_initial_enable": 1,
							"parameter_invisible": 1,
							"parameter_longname": "Mode",
							"parameter_mmax": 2,
							"parameter_shortname": "Mode",
							"parameter_type": 2,
							"parameter_unitstyle": 9
						}
					},
					"varname": "Mode"
				}
			},
			{
				"box": {
					"id": "obj-22",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						380.0,
						180.0,
						40.0,
						20.0
					],
					"presentation": 1,
					"presentation_rect": [
						4.0,
						65.0,
						36.0,
						17.0
					],
					"saved_attribute_attributes": {
						"textcolor": {
							"expression": "themecolor.live_control_fg"
						}
					},
					"text": "Insert",
					"textcolor": [
						0.85,
						0.85,
						0.85,
						1.0
					]
				}
			},
			{
				"box": {
					"annotation": "Session: highlighted empty slot or the next empty slots below. Arrangement: at the insert marker on the selected track.",
					"id": "obj-23",
					"maxclass": "live.tab",
					"num_lines_patching": 1,
					"num_lines_presentation": 1,
					"numinlets": 1,
					"numoutlets": 3,
					"outlettype": [
						"",
						"",
						"float"
					],
					"parameter_enable": 1,
					"patching_rect": [
						380.0,
						210.0,
						130.0,
						15.0
					],
					"presentation": 1,
					"presentation_rect": [
						40.0,
						66.0,
						140.0,
						15.0
					],
					"saved_attribute_attributes": {
						"valueof": {
							"parameter_enum": [
								"Session",
								"Arrangement"
							],
							"parameter_initial": [
								0
							],
							"parameter_initial_enable": 1,
							"parameter_invisible": 1,
							"parameter_longname": "Insert",
							"parameter_mmax": 1,
							"parameter_shortname": "Insert",
							"parameter_type": 2,
							"parameter_unitstyle": 9
						}
					},
					"varname": "Insert"
				}
			},
			{
				"box": {
					"id": "obj-24",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						530.0,
						180.0,
						50.0,
						20.0
					],
					"presentation": 1,
					"presentation_rect": [
						188.0,
						65.0,
						40.0,
						17.0
					],
					"saved_attribute_attributes": {
						"textcolor": {
							"expression": "themecolor.live_control_fg"
						}
					},
					"text": "Daemon",
					"textcolor": [
						0.85,
						0.85,
						0.85,
						1.0
					]
				}
			},
			{
				"box": {
					"annotation": "UDP port the daemon listens on (musicgen-bridge serve --port).",
					"id": "obj-25",
					"maxclass": "live.numbox",
					"numinlets": 1,
					"numoutlets": 2,
					"outlettype": [
						"",
						"float"
					],
					"parameter_enable": 1,
					"patching_rect": [
						530.0,
						210.0,
						48.0,
						15.0
					],
					"presentation": 1,
					"presentation_rect": [
						228.0,
						66.0,
						50.0,
						15.0
					],
					"saved_attribute_attributes": {
						"valueof": {
							"parameter_initial": [
								9000
							],
							"parameter_initial_enable": 1,
							"parameter_invisible": 1,
							"parameter_longname": "Daemon Port",
							"parameter_mmax": 65535.0,
							"parameter_mmin": 1.0,
							"parameter_shortname": "Daemon Port",
							"parameter_type": 0,
							"parameter_unitstyle": 0
						}
					},
					"varname": "Daemon Port"
				}
			},
			{
				"box": {
					"id": "obj-26",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						600.0,
						180.0,
						50.0,
						20.0
					],
					"presentation": 1,
					"presentation_rect": [
						286.0,
						65.0,
						30.0,
						17.0
					],
					"saved_attribute_attributes": {
						"textcolor": {
							"expression": "themecolor.live_control_fg"
						}
					},
					"text": "Reply",
					"textcolor": [
						0.85,
						0.85,
						0.85,
						1.0
					]
				}
			},
			{
				"box": {
					"annotation": "UDP port this device listens on for the daemon's replies; give each device its own.",
					"id": "obj-27",
					"maxclass": "live.numbox",
					"numinlets": 1,
					"numoutlets": 2,
					"outlettype": [
						"",
						"float"
					],
					"parameter_enable": 1,
					"patching_rect": [
						600.0,
						210.0,
						48.0,
						15.0
					],
					"presentation": 1,
					"presentation_rect": [
						316.0,
						66.0,
						50.0,
						15.0
					],
					"saved_attribute_attributes": {
						"valueof": {
							"parameter_initial": [
								9001
							],
							"parameter_initial_enable": 1,
							"parameter_invisible": 1,
							"parameter_longname": "Reply Port",
							"parameter_mmax": 65535.0,
							"parameter_mmin": 1.0,
							"parameter_shortname": "Reply Port",
							"parameter_type": 0,
							"parameter_unitstyle": 0
						}
					},
					"varname": "Reply Port"
				}
			},
			{
				"box": {
					"id": "obj-28",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						16.0,
						250.0,
						100.0,
						22.0
					],
					"text": "prepend bars"
				}
			},
			{
				"box": {
					"id": "obj-29",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						160.0,
						250.0,
						100.0,
						22.0
					],
					"text": "prepend mode"
				}
			},
			{
				"box": {
					"id": "obj-30",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						90.0,
						250.0,
						100.0,
						22.0
					],
					"text": "prepend variations"
				}
			},
			{
				"box": {
					"id": "obj-31",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						380.0,
						250.0,
						100.0,
						22.0
					],
					"text": "prepend destination"
				}
			},
			{
				"box": {
					"id": "obj-32",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						530.0,
						250.0,
						100.0,
						22.0
					],
					"text": "prepend daemon_port"
				}
			},
			{
				"box": {
					"id": "obj-33",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						600.0,
						250.0,
						100.0,
						22.0
					],
					"text": "prepend reply_port"
				}
			},
			{
				"box": {
					"bgcolor": [
						0.2,
						0.2,
						0.2,
						1.0
					],
					"id": "obj-34",
					"ignoreclick": 1,
					"maxclass": "multislider",
					"numinlets": 1,
					"numoutlets": 2,
					"orientation": 0,
					"outlettype": [
						"",
						""
					],
					"parameter_enable": 0,
					"patching_rect": [
						16.0,
						510.0,
						300.0,
						10.0
					],
					"presentation": 1,
					"presentation_rect": [
						196.0,
						90.0,
						200.0,
						8.0
					],
					"setminmax": [
						0.0,
						1.0
					],
					"setstyle": 1,
					"slidercolor": [
						1.0,
						0.6,
						0.2,
						1.0
					]
				}
			},
			{
				"box": {
					"id": "obj-35",
					"linecount": 3,
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						330.0,
						470.0,
						392.0,
						40.0
					],
					"presentation": 1,
					"presentation_rect": [
						4.0,
						103.0,
						392.0,
						38.0
					],
					"saved_attribute_attributes": {
						"textcolor": {
							"expression": "themecolor.live_control_fg"
						}
					},
					"text": "Script missing: musicgen_bridge.js must be in the same folder as this .amxd (or use the frozen device). See max_for_live/README.md",
					"textcolor": [
						0.85,
						0.85,
						0.85,
						1.0
					]
				}
			},
			{
				"box": {
					"annotation": "The generated file(s). Select and copy the path when it could not be inserted.",
					"fontsize": 9.0,
					"id": "obj-36",
					"maxclass": "textedit",
					"numinlets": 1,
					"numoutlets": 4,
					"outlettype": [
						"",
						"int",
						"",
						""
					],
					"parameter_enable": 0,
					"patching_rect": [
						16.0,
						640.0,
						392.0,
						24.0
					],
					"presentation": 1,
					"presentation_rect": [
						4.0,
						143.0,
						392.0,
						24.0
					],
					"readonly": 1,
					"text": "",
					"varname": "Path"
				}
			},
			{
				"box": {
					"id": "obj-37",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						680.0,
						180.0,
						40.0,
						20.0
					],
					"presentation": 1,
					"presentation_rect": [
						4.0,
						85.0,
						28.0,
						17.0
					],
					"saved_attribute_attributes": {
						"textcolor": {
							"expression": "themecolor.live_control_fg"
						}
					},
					"text": "Grid",
					"textcolor": [
						0.85,
						0.85,
						0.85,
						1.0
					]
				}
			},
			{
				"box": {
					"annotation": "On: the loop is fitted onto the song's grid whatever tempo the model played. Strict: a take too far off the song tempo is generated again. Off: the loop is cut as generated.",
					"id": "obj-38",
					"maxclass": "live.menu",
					"numinlets": 1,
					"numoutlets": 3,
					"outlettype": [
						"",
						"",
						"float"
					],
					"parameter_enable": 1,
					"patching_rect": [
						680.0,
						210.0,
						56.0,
						15.0
					],
					"presentation": 1,
					"presentation_rect": [
						32.0,
						86.0,
						44.0,
						15.0
					],
					"saved_attribute_attributes": {
						"valueof": {
							"parameter_enum": [
								"On",
								"Strict",
								"Off"
							],
							"parameter_initial": [
								0
							],
							"parameter_initial_enable": 1,
							"parameter_invisible": 1,
							"parameter_longname": "Grid",
							"parameter_mmax": 2,
							"parameter_shortname": "Grid",
							"parameter_type": 2
						}
					},
					"varname": "Grid"
				}
			},
			{
				"box": {
					"id": "obj-39",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						760.0,
						180.0,
						40.0,
						20.0
					],
					"presentation": 1,
					"presentation_rect": [
						82.0,
						85.0,
						34.0,
						17.0
					],
					"saved_attribute_attributes": {
						"textcolor": {
							"expression": "themecolor.live_control_fg"
						}
					},
					"text": "Nudge",
					"textcolor": [
						0.85,
						0.85,
						0.85,
						1.0
					]
				}
			},
			{
				"box": {
					"annotation": "Beats the bar line moves when the loop starts in the wrong place (-1, +1, 2 for half a 4/4 bar).",
					"id": "obj-40",
					"maxclass": "live.numbox",
					"numinlets": 1,
					"numoutlets": 2,
					"outlettype": [
						"",
						"float"
					],
					"parameter_enable": 1,
					"patching_rect": [
						760.0,
						210.0,
						48.0,
						15.0
					],
					"presentation": 1,
					"presentation_rect": [
						116.0,
						86.0,
						40.0,
						15.0
					],
					"saved_attribute_attributes": {
						"valueof": {
							"parameter_initial": [
								0.0
							],
							"parameter_initial_enable": 1,
							"parameter_invisible": 1,
							"parameter_longname": "Nudge",
							"parameter_mmax": 8.0,
							"parameter_mmin": -8.0,
							"parameter_shortname": "Nudge",
							"parameter_steps": 33,
							"parameter_type": 0,
							"parameter_unitstyle": 1
						}
					},
					"varname": "Nudge"
				}
			},
			{
				"box": {
					"id": "obj-41",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						810.0,
						210.0,
						40.0,
						20.0
					],
					"presentation": 1,
					"presentation_rect": [
						156.0,
						85.0,
						32.0,
						17.0
					],
					"saved_attribute_attributes": {
						"textcolor": {
							"expression": "themecolor.live_control_fg"
						}
					},
					"text": "beats",
					"textcolor": [
						0.85,
						0.85,
						0.85,
						1.0
					]
				}
			},
			{
				"box": {
					"id": "obj-42",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						680.0,
						250.0,
						70.0,
						22.0
					],
					"text": "prepend grid"
				}
			},
			{
				"box": {
					"id": "obj-43",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						760.0,
						250.0,
						90.0,
						22.0
					],
					"text": "prepend grid_shift"
				}
			}
		],
		"lines": [
			{
				"patchline": {
					"destination": [
						"obj-2",
						0
					],
					"source": [
						"obj-1",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-2",
						1
					],
					"source": [
						"obj-1",
						1
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-5",
						0
					],
					"source": [
						"obj-4",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-5",
						0
					],
					"source": [
						"obj-7",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-6",
						0
					],
					"source": [
						"obj-5",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-12",
						0
					],
					"source": [
						"obj-10",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-13",
						0
					],
					"source": [
						"obj-12",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-9",
						0
					],
					"source": [
						"obj-13",
						1
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-14",
						0
					],
					"source": [
						"obj-13",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-5",
						0
					],
					"source": [
						"obj-14",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-5",
						0
					],
					"source": [
						"obj-9",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-15",
						0
					],
					"source": [
						"obj-11",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-16",
						0
					],
					"source": [
						"obj-15",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-5",
						0
					],
					"source": [
						"obj-16",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-28",
						0
					],
					"source": [
						"obj-18",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-5",
						0
					],
					"source": [
						"obj-28",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-29",
						0
					],
					"source": [
						"obj-21",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-5",
						0
					],
					"source": [
						"obj-29",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-30",
						0
					],
					"source": [
						"obj-20",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-5",
						0
					],
					"source": [
						"obj-30",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-31",
						0
					],
					"source": [
						"obj-23",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-5",
						0
					],
					"source": [
						"obj-31",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-32",
						0
					],
					"source": [
						"obj-25",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-5",
						0
					],
					"source": [
						"obj-32",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-33",
						0
					],
					"source": [
						"obj-27",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-5",
						0
					],
					"source": [
						"obj-33",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-8",
						0
					],
					"source": [
						"obj-3",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-4",
						0
					],
					"source": [
						"obj-8",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-27",
						0
					],
					"source": [
						"obj-8",
						1
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-25",
						0
					],
					"source": [
						"obj-8",
						2
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-23",
						0
					],
					"source": [
						"obj-8",
						3
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-20",
						0
					],
					"source": [
						"obj-8",
						4
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-21",
						0
					],
					"source": [
						"obj-8",
						5
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-18",
						0
					],
					"source": [
						"obj-8",
						6
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-35",
						0
					],
					"source": [
						"obj-5",
						1
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-34",
						0
					],
					"source": [
						"obj-5",
						2
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-7",
						0
					],
					"source": [
						"obj-5",
						3
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-36",
						0
					],
					"source": [
						"obj-5",
						4
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-42",
						0
					],
					"source": [
						"obj-38",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-5",
						0
					],
					"source": [
						"obj-42",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-43",
						0
					],
					"source": [
						"obj-40",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-5",
						0
					],
					"source": [
						"obj-43",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-38",
						0
					],
					"source": [
						"obj-8",
						7
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-40",
						0
					],
					"source": [
						"obj-8",
						8
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-9",
						0
					],
					"source": [
						"obj-8",
						9
					]
				}
			}
		],
		"dependency_cache": [
			{
				"name": "musicgen_bridge.js",
				"patcherrelativepath": ".",
				"type": "TEXT",
				"implicit": 1
			}
		],
		"latency": 0,
		"autosave": 0
	}
}
